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
from collections.abc import Sequence

from gunmane.cli import (
    backup,
    districts,
    effects,
    errors,
    groups,
    karte,
    lcc,
    ledger,
    national,
    server,
    survival,
)
from gunmane.cli.common import t

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gunmane", description=t(
        "群マネ（地域インフラ群再生戦略マネジメント）支援システム", "Regional infrastructure group management"))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In the order `gunmane --help` lists them.
    imports = ledger.register(sub)  # init, refdata, import (facilities, inspections, measures, undo)
    national.register(sub, imports)  # import nenpo, import xroad; fetch
    effects.register(sub)  # costing, effects, lots
    districts.register(sub)  # districts
    lcc.register(sub)  # lcc, plan
    groups.register_documents(sub)  # documents
    backup.register(sub)  # backup, restore
    ledger.register_export(sub)  # export, template
    karte.register(sub)  # karte
    lcc.register_deterioration(sub)  # deterioration
    survival.register(sub)  # survival
    groups.register_groups(sub)  # groups
    server.register(sub)  # demo, serve, worker, manage
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; no traceback reaches the user (gunmane.cli.errors says what each error becomes).

    Exit codes: 0 done, 1 invalid input, 2 usage error (a path that cannot be used too), 3 unexpected error
    (details in a log file; the traceback also on stderr with GUNMANE_DEBUG=1), 130 interrupted.
    """
    args = build_parser().parse_args(argv)
    return errors.run(args.func, args, argv)
