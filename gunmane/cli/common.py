"""What every sub-command of `gunmane` shares: exit codes, the usage error, the language, Django, the
municipality and scope arguments, and writing the output.

Start-up speed: `gunmane --help` and every parser are built without Django, pandas or the engine — they
take seconds to import. So the modules of gunmane.cli import only the standard library and each other at
the top; everything heavy (Django and what needs it, gunmane.io, gunmane.engine) is imported inside the
function that uses it. That is the only reason for the function-local imports in this package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "command",
    "err",
    "lang",
    "municipality",
    "needs_out",
    "scope",
    "setup_django",
    "t",
    "text_out",
    "write_file",
    "write_json",
]

# 0 done, 1 invalid input, 2 usage error (a path that cannot be used too), 3 unexpected error, 130 interrupted.
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A command line that cannot be run as given: the message (in the user's language) and exit 2."""


def lang() -> str:
    return "en" if os.environ.get("GUNMANE_LANG", "").lower().startswith("en") else "ja"


def t(ja: str, en: str) -> str:
    return en if lang() == "en" else ja


def err(message: str) -> None:
    print(message, file=sys.stderr)


def setup_django(*, check_migrations: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gunmane.web.settings")
    import django

    django.setup()
    if check_migrations:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise UsageError(t("データベースが最新ではありません。先に gunmane init を実行してください。",
                               "The database is not up to date: run gunmane init first."))


def command(sub: Any, name: str, help: str) -> argparse.ArgumentParser:
    """Add the sub-command ``name`` to ``sub``; ``help`` is said in the list of commands and also heads the
    command's own --help (so that every --help speaks the user's language)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    return parser


# -- arguments naming what is in the database (Django set up by the caller) ------------------------------------
def municipality(code: str | None) -> Any:
    """The Municipality of ``--municipality CODE`` (None without one); UsageError for a code that is not one."""
    if code is None:
        return None
    from gunmane.io.values.parsing import InvalidValue, parse_lg_code
    from gunmane.web.registry.models import Municipality

    try:
        lg = parse_lg_code(code).value
    except InvalidValue as exc:
        raise UsageError(t(f"--municipality {code}: {exc.message_ja}", f"--municipality {code}: {exc.message_en}")) from exc
    muni = Municipality.objects.filter(lg_code=lg).first()
    if muni is None:
        raise UsageError(t(f"団体コード {code} の団体が見つかりません（gunmane init で参照データを読み込みましたか）。",
                           f"No local government with code {code} (did you run gunmane init?)."))
    return muni


def scope(spec: str) -> Any:
    """The scope of a SCOPE argument (national, a prefecture, a municipality, group:NAME); UsageError if none."""
    from gunmane.web.analysis import services

    try:
        return services.resolve_scope(spec)
    except services.ScopeNotFound as exc:
        raise UsageError(str(exc)) from exc


# -- output: JSON or text to stdout or --out, a workbook, PDF or document to --out -----------------------------
def needs_out(fmt: str, out: str | None) -> str:
    """``--out`` of a format that is a file (xlsx, pdf): UsageError when it is missing."""
    if not out:
        raise UsageError(t(f"--format {fmt} には --out FILE を指定してください。", f"--format {fmt} needs --out FILE."))
    return out


@contextlib.contextmanager
def text_out(out: str | None, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """stdout, or the file ``out`` (written as is: no newline translation, so CSV keeps its CRLF)."""
    if out is None:
        yield sys.stdout
    else:
        with open(out, "w", encoding=encoding, newline="") as fh:
            yield fh


def write_json(doc: Any, out: str | None = None, *, written: str | None = None) -> None:
    """The JSON document (indented, Japanese as is) alone on stdout, or in the file ``out``; ``written`` is
    said on stderr after writing a file."""
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    with text_out(out or None) as fh:
        fh.write(text + "\n")
    if out and written:
        err(written)


def write_file(out: str, content: bytes | Callable[[BinaryIO], Any], written: str | None = None) -> Any:
    """A workbook, PDF or document into the file ``out`` — the bytes, or what ``content(fh)`` writes (its
    result is returned) — and ``written`` on stderr."""
    with open(out, "wb") as fh:
        result = fh.write(content) if isinstance(content, bytes) else content(fh)
    if written:
        err(written)
    return result
