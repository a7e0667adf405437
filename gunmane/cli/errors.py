"""What the `gunmane` command says when something goes wrong: no Python traceback reaches a user.

The one place that maps errors to messages and exit codes. :func:`run` wraps every sub-command (called by
:func:`gunmane.cli.main`). Each known error family becomes a message on stderr in Japanese (English with
GUNMANE_LANG=en) that names the file — and the row and column when they are known — and the documented
exit code:

| exit | when |
| --- | --- |
| 0 | done |
| 1 | the input was invalid: a file that cannot be used (gunmane.io.errors.IoFileError: TableError, PairsFileError, NationalFileError, ScenarioFileError, LccParamsError, FileRefused), an engine error (gunmane.engine.errors.EngineError), a refused value, a failed xROAD fetch, a text that is not UTF-8 |
| 2 | usage error (UsageError), including a path on the command line that cannot be used (missing, a folder, no permission) |
| 3 | an unexpected error: a short message, the traceback written to a log file (and shown with GUNMANE_DEBUG=1) |
| 130 | interrupted (Ctrl+C) |

With ``--format json`` an invalid input also puts ``{"status": "invalid", "error": {…}}`` on stdout, as the
commands do for the errors they report themselves.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunmane.cli.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_USAGE,
    UsageError,
    err,
    lang,
    t,
    write_json,
)

# Error families of gunmane whose message is meant for the user, by module.Class of the base: matched on the
# exception's class hierarchy by name, so that nothing here imports (and nothing can fail to import) while an
# error is being reported. Every member has code, message_ja and message_en; the io family also file, row,
# column (tests/cli/test_no_traceback.py checks that each member has one of these bases).
KNOWN_ERRORS = frozenset({
    "gunmane.io.errors.IoFileError",
    "gunmane.engine.errors.EngineError",
    "gunmane.io.values.parsing.InvalidValue",  # a value refused on its own (a code given on the command line …)
    "gunmane.io.national.xroad.XroadFetchError",  # the xROAD API did not answer as it should
})
# Members whose message does not name the file: the message says which files were given.
WITHOUT_FILE_NAME = frozenset({"gunmane.io.limits.FileRefused", "gunmane.io.values.parsing.InvalidValue"})
# Arguments of the sub-commands that name files.
PATH_ARGUMENTS = ("file", "files", "scenario", "pairs", "params", "points", "q_from", "out")


@dataclass(frozen=True)
class Failure:
    """What to tell the user: exit code, a stable code, the message, and where (file, row, column) if known."""

    exit_code: int
    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "file": self.file, "row": self.row,
                "column": self.column}


def _qualified_names(exc: BaseException) -> set[str]:
    return {f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__}


def _given_files(args: argparse.Namespace | None) -> list[str]:
    out: list[str] = []
    for name in PATH_ARGUMENTS:
        value = getattr(args, name, None) if args is not None else None
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, str)]
    return out


def _with_files(message: str, args: argparse.Namespace | None) -> str:
    files = _given_files(args)
    return f"{message}（{t('指定したファイル', 'files given')}: {'、'.join(files)}）" if files else message


def _known(exc: BaseException, args: argparse.Namespace | None) -> Failure | None:
    """A Failure for gunmane's own error families (exit 1), None for anything else."""
    names = _qualified_names(exc)
    if not names & KNOWN_ERRORS:
        return None
    message = str(getattr(exc, "message_en" if lang() == "en" else "message_ja", None) or exc)
    if names & WITHOUT_FILE_NAME:
        message = _with_files(message, args)
    row = getattr(exc, "row", None)
    column = getattr(exc, "column", None) or getattr(exc, "field", None)
    return Failure(EXIT_INVALID, str(getattr(exc, "code", type(exc).__name__)), message, getattr(exc, "file", None),
                   row if isinstance(row, int) else None, None if column is None else str(column))


def _os_error(exc: OSError) -> Failure | None:
    """A path that cannot be used (exit 2): missing, a folder, no permission … None when no path is involved."""
    name = exc.filename
    if name is None:
        return None
    shown = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else str(name)
    if isinstance(exc, FileNotFoundError):
        ja, en, code = f"ファイルまたはフォルダが見つかりません: {shown}", f"File or folder not found: {shown}", "file_not_found"
    elif isinstance(exc, IsADirectoryError):
        ja, en, code = f"ファイルではなくフォルダです: {shown}", f"A folder, not a file: {shown}", "is_a_directory"
    elif isinstance(exc, NotADirectoryError):
        ja, en, code = (f"途中にフォルダではなくファイルがあります: {shown}", f"Not a folder on the way: {shown}",
                        "not_a_directory")
    elif isinstance(exc, PermissionError):
        ja, en, code = (f"読み書きする権限がありません: {shown}", f"Permission denied: {shown}", "permission_denied")
    else:
        ja, en, code = f"{shown}: 読み書きできません（{exc.strerror}）", f"{shown}: {exc.strerror}", "os_error"
    return Failure(EXIT_USAGE, code, t(ja, en), shown)


def classify(exc: BaseException, args: argparse.Namespace | None = None) -> Failure | None:
    """The Failure to report for ``exc``, or None when it is unexpected (a bug, the environment)."""
    known = _known(exc, args)
    if known is not None:
        return known
    if isinstance(exc, UnicodeDecodeError):
        message = t(f"文字コードを読み取れないファイルがあります（{exc.encoding} として{exc.start}バイト目）。"
                     "UTF-8 または Shift_JIS（CP932）で保存してください",
                     f"A file cannot be decoded as {exc.encoding} (byte {exc.start})")
        return Failure(EXIT_INVALID, "undecodable", _with_files(message, args))
    if isinstance(exc, csv.Error):
        return Failure(EXIT_INVALID, "csv_unreadable", _with_files(
            t(f"CSV を読み取れません（{exc}）", f"Cannot parse the CSV ({exc})"), args))
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
        return _os_error(exc)
    return None


def log_dir() -> Path:
    """Where unexpected errors are logged: ``logs`` in the data folder (GUNMANE_DATA_DIR, default ./var)."""
    base = os.environ.get("GUNMANE_DATA_DIR") or str(Path(__file__).resolve().parent.parent / "var")
    return Path(base) / "logs"


def _write_log(exc: BaseException, argv: Sequence[str] | None) -> Path | None:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (f"gunmane {' '.join(argv if argv is not None else sys.argv[1:])}\n{dt.datetime.now().isoformat()}\n\n"
            + "".join(traceback.format_exception(exc)))
    for folder in (log_dir(), Path(tempfile.gettempdir()) / "gunmane-logs"):
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"error-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
    return None


def unexpected(exc: BaseException, argv: Sequence[str] | None = None) -> int:
    """A short message and where the details are (the traceback itself only with GUNMANE_DEBUG=1); exit 3."""
    path = _write_log(exc, argv)
    what = f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__
    if isinstance(exc, MemoryError):
        what = t("メモリが足りません", "out of memory")
    where = (t(f"詳細を {path} に記録しました。", f"Details were written to {path}.") if path
             else t("詳細を記録できませんでした。", "The details could not be written."))
    print(t(f"gunmane: 予期しないエラーが発生しました（{what}）。{where}"
             "GUNMANE_DEBUG=1 を付けて実行すると画面にも表示します。問題が続くときはこのファイルを添えて報告してください。",
             f"gunmane: unexpected error ({what}). {where} Run with GUNMANE_DEBUG=1 to show it here."),
          file=sys.stderr)
    if os.environ.get("GUNMANE_DEBUG") == "1":
        traceback.print_exception(exc, file=sys.stderr)
    return EXIT_INTERNAL


def report(failure: Failure, args: argparse.Namespace | None) -> int:
    """Print the failure (stderr; JSON on stdout with --format json for invalid input) and return its exit code."""
    err(f"gunmane: {failure.message}")
    if failure.exit_code == EXIT_INVALID and getattr(args, "format", None) == "json":
        write_json({"status": "invalid", "error": failure.as_json()})
    return failure.exit_code


def run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace,
        argv: Sequence[str] | None = None) -> int:
    """``func(args)`` with every exception turned into a message and an exit code (see the module docstring).

    SystemExit (argparse, Django's manage) passes.
    """
    try:
        return int(func(args))
    except UsageError as exc:
        err(f"gunmane: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err(t("gunmane: 中断しました。", "gunmane: interrupted."))
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `gunmane … | head`: the reader has gone; say nothing more on that pipe
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 — the point of this function: no traceback for the user
        failure = classify(exc, args)
        return report(failure, args) if failure is not None else unexpected(exc, argv)
