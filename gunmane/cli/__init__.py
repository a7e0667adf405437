"""The `gunmane` command: one command, sub-commands over engine/, io/ and (given a database) the registry.

Conventions (docs/architecture.md; DESIGN): `--format json` puts the JSON document alone on stdout, progress and logs go
to stderr; exit code 0 done, 1 invalid input, 2 usage error, 3 unexpected error, 130 interrupted (see
gunmane.cli.errors); messages are Japanese unless GUNMANE_LANG=en.

One module per family of commands, each adding its own parsers:

| module | commands |
| --- | --- |
| ledger | init, refdata, import facilities/inspections/measures, import undo, export, template |
| national | import nenpo, import xroad, fetch xroad |
| effects | costing, effects, lots |
| lcc | lcc, plan, deterioration |
| survival | survival |
| karte | karte |
| districts | districts |
| groups | groups, documents |
| backup | backup, restore |
| server | demo, serve, worker, manage |

gunmane.cli.common holds what they share (exit codes, UsageError, language, Django, the output),
gunmane.cli.errors what every error becomes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from gunmane.cli import errors
from gunmane.cli.common import t

__all__ = ["build_parser", "main"]

# Who adds which commands, in the order `gunmane --help` lists them: (module, function, commands it adds).
# A run builds (and imports) only the families of its own command: building all 29 parsers and importing their
# modules was a tenth of a 6,500-pair fit's 0.6 s (#15 §6). tests/cli/test_help.py holds this table to the parsers.
FAMILIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ledger", "register", ("init", "refdata", "import")),  # import: facilities, inspections, measures, undo
    ("national", "register", ("import", "fetch")),  # import nenpo, import xroad (into the ledger's `import`)
    ("effects", "register", ("costing", "effects", "lots")),
    ("districts", "register", ("districts",)),
    ("lcc", "register", ("lcc", "plan")),
    ("groups", "register_documents", ("documents",)),
    ("backup", "register", ("backup", "restore")),
    ("ledger", "register_export", ("export", "template")),
    ("karte", "register", ("karte",)),
    ("lcc", "register_deterioration", ("deterioration",)),
    ("survival", "register", ("survival",)),
    ("groups", "register_groups", ("groups",)),
    ("server", "register", ("demo", "serve", "worker", "manage")),
)


def _registrar(module: str, function: str) -> Callable[..., Any]:
    # __import__, not importlib.import_module: the C import path, which `python -X importtime` records (the
    # start-up guard tests/cli/test_startup.py reads that record)
    fn: Callable[..., Any] = getattr(__import__(f"gunmane.cli.{module}", fromlist=[function]), function)
    return fn


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command tree; with ``command``, only the families that add it (the rest are neither imported
    nor built), so that a run pays for its own command's parser only."""
    p = argparse.ArgumentParser(prog="gunmane", description=t(
        "群マネ（地域インフラ群再生戦略マネジメント）支援システム", "Regional infrastructure group management"))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    imports: Any = None  # the ledger's `import` parser group, which national's kinds join
    for module, function, commands in FAMILIES:
        if command is not None and command not in commands:
            continue
        if module == "national":
            _registrar(module, function)(sub, imports)
        else:
            added = _registrar(module, function)(sub)
            imports = added if (module, function) == ("ledger", "register") else imports
    return p


def _command_of(argv: Sequence[str]) -> str | None:
    """The command when it comes first and is known (`gunmane deterioration fit …`), else None (the whole tree:
    `gunmane --help`, a typo argparse should answer with the list of commands)."""
    known = {c for _, _, commands in FAMILIES for c in commands}
    return argv[0] if argv and argv[0] in known else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; no traceback reaches the user (gunmane.cli.errors says what each error becomes).

    Exit codes: 0 done, 1 invalid input, 2 usage error (a path that cannot be used too), 3 unexpected error
    (details in a log file; the traceback also on stderr with GUNMANE_DEBUG=1), 130 interrupted.
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_of(args_in)).parse_args(args_in)
    return errors.run(args.func, args, argv)
