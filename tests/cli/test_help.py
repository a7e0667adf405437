"""`--help` of `gunmane` and of every sub-command (and sub-sub-command) works and speaks Japanese.

`gunmane lcc --help` once ended in a traceback: a help text held a bare ``%``, which argparse expands. Every
parser is walked here, so a new command cannot bring that (or a help without Japanese) back unnoticed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gunmane.cli import FAMILIES, build_parser, main

REPO = Path(__file__).resolve().parents[2]


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """() for the top level, then ("import",), ("import", "facilities"), … for every sub-parser."""
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from command_paths(child, (*prefix, name))


PATHS = list(command_paths(build_parser()))


def japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


def test_every_command_is_walked() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"", "import", "import facilities", "import undo", "import nenpo", "fetch xroad", "lcc", "plan",
            "deterioration", "karte", "documents", "backup", "serve", "manage"} <= names
    assert len(PATHS) >= 28


def test_a_command_alone_builds_the_same_parser_as_the_whole_tree() -> None:
    """main builds only the families of the command it runs (FAMILIES): each command's parser so built must be the
    one of the whole tree — same options, sub-commands and help — and every command must be in FAMILIES, or a new
    command would be missing from the lazy tree (argparse: invalid choice)."""
    whole = {p: child for p, child in _parsers(build_parser())}
    tops = {p[0] for p in whole}
    assert tops == {c for _, _, commands in FAMILIES for c in commands}
    for top in sorted(tops):
        alone = dict(_parsers(build_parser(top)))
        for path, parser in alone.items():
            if path and path[0] == top:
                assert parser.format_help() == whole[path].format_help(), path
        assert {p for p in whole if p[0] == top} == {p for p in alone if p[0] == top}, top


def _parsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*prefix, name), child
                yield from _parsers(child, (*prefix, name))


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "gunmane" for p in PATHS])
def test_help_exits_0_in_japanese(path: tuple[str, ...], capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUNMANE_LANG", raising=False)
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    out, err = capsys.readouterr()
    assert done.value.code == 0, err
    assert out.startswith(f"usage: gunmane{''.join(' ' + p for p in path)}"), out
    assert japanese(out), out
    assert "Traceback" not in out + err


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "gunmane" for p in PATHS])
def test_help_in_english(path: tuple[str, ...], capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUNMANE_LANG", "en")
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: gunmane")


def test_lcc_help_in_a_real_process_loads_neither_django_nor_pandas() -> None:
    """The regression itself, as a user runs it; and --help stays fast (no Django, pandas or engine)."""
    env = {k: v for k, v in os.environ.items() if k != "GUNMANE_LANG"}
    done = subprocess.run([sys.executable, "-m", "gunmane", "lcc", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "幅（5〜95%）の計算を省く" in done.stdout
    probe = ("import sys\nfrom gunmane.cli import build_parser\nbuild_parser()\n"
             "print(sorted(m for m in ('django', 'pandas', 'numpy', 'gunmane.engine', 'gunmane.io', 'gunmane.web')"
             " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60,
                            env=env, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
