"""No Python traceback reaches a user of the `gunmane` command (issue #11 §3).

Every sub-command that reads or writes a file is run with broken inputs — a missing file, a folder instead of a
file, an empty file, random bytes, the wrong encoding — and must print a Japanese message naming the file and
end with the documented exit code: 1 invalid input, 2 usage error (a path that cannot be used), 3 unexpected
error (details logged), 130 interrupted. README「コマンドライン」documents them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gunmane.cli import errors as cli_errors
from gunmane.cli import ledger, main

REPO = Path(__file__).resolve().parents[2]
RANDOM = bytes(range(256)) * 8 + b"\x00\xff\xfe\x81\x39" * 50
BROKEN = ("missing", "folder", "empty", "random", "encoding")


def broken(tmp_path: Path, kind: str, suffix: str) -> Path:
    """A path of the given kind of brokenness, with the suffix the command expects."""
    path = tmp_path / f"入力{suffix}"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(RANDOM)
    elif kind == "encoding":  # Latin-1 in a UTF-8 file (neither UTF-8 nor Shift_JIS); Shift_JIS for TOML
        path.write_bytes('name = "群マネ"\n'.encode("cp932") if suffix == ".toml" else
                         "施設ID,施設名,施設種別\nBR-1,一号橋,橋梁\n".encode() + b"BR-2,caf\xe9,\xe9\n")
    return path


def params_folder(tmp_path: Path, kind: str) -> Path:
    """--params: the folder of the LCC tables, broken the same ways (its two files carry the content)."""
    folder = tmp_path / "params"
    if kind == "missing":
        return folder
    if kind == "folder":  # a file where the folder should be
        folder.write_text("x", encoding="utf-8")
        return folder
    folder.mkdir()
    for name in ("actions.csv", "parameters.csv"):
        broken(folder, kind, ".csv").rename(folder / name)
    return folder


def run(capfd: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capfd.readouterr()
    return code, out, err


def assert_no_traceback(code: int, out: str, err: str, expected: int, *shown: str) -> None:
    assert "Traceback" not in out + err, err
    assert code == expected, (code, out, err)
    assert any(s in out + err for s in shown), (shown, out, err)  # the message names the file
    assert any("\u3040" <= ch <= "\u9fff" for ch in out + err)  # in Japanese


# (argv with {} for the path, suffix, exit code for an unusable path, exit code for bad content)
FILE_COMMANDS = [
    (["import", "facilities", "{}", "--municipality", "292125"], ".csv", 2, 1),
    (["import", "inspections", "{}", "--municipality", "292125", "--format", "json"], ".xlsx", 2, 1),
    (["import", "measures", "{}", "--municipality", "292125"], ".json", 2, 1),
    (["import", "nenpo", "{}", "--municipality", "292125", "--fiscal-year", "2024"], ".xlsx", 2, 1),
    (["import", "xroad", "{}", "--municipality", "292125", "--format", "json"], ".json", 2, 1),
    (["deterioration", "fit", "--pairs", "{}"], ".csv", 2, 1),
    (["deterioration", "fit", "--pairs", "{}"], ".xlsx", 2, 1),
    (["effects", "{}"], ".toml", 2, 1),
    (["lots", "{}", "--format", "geojson"], ".toml", 2, 1),
]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", BROKEN)
@pytest.mark.parametrize(("argv", "suffix", "unusable", "invalid"), FILE_COMMANDS,
                         ids=[f"{' '.join(a[:2])}{s}" for a, s, _, _ in FILE_COMMANDS])
def test_input_files(refdata, tmp_path: Path, capfd: pytest.CaptureFixture[str], argv: list[str], suffix: str,  # type: ignore[no-untyped-def]
                     unusable: int, invalid: int, kind: str) -> None:
    path = broken(tmp_path, kind, suffix)
    code, out, err = run(capfd, [str(path) if a == "{}" else a for a in argv])
    expected = unusable if kind in ("missing", "folder") else invalid
    assert_no_traceback(code, out, err, expected, path.name)
    if expected == 1 and "--format" in argv:
        assert json.loads(out)["status"] == "invalid"  # stdout still carries the JSON document alone


@pytest.mark.django_db
@pytest.mark.parametrize("kind", BROKEN)
@pytest.mark.parametrize("command", ["lcc", "plan"])
def test_lcc_parameter_folder(refdata, tmp_path: Path, capfd: pytest.CaptureFixture[str], command: str,  # type: ignore[no-untyped-def]
                              kind: str) -> None:
    folder = params_folder(tmp_path, kind)
    argv = [command, "292125", "--params", str(folder)] + (["--budget", "1億"] if command == "plan" else [])
    code, out, err = run(capfd, argv)
    assert_no_traceback(code, out, err, 2 if kind in ("missing", "folder") else 1, "params")


@pytest.mark.parametrize("kind", ["missing", "folder", "empty", "random", "encoding"])
def test_costing_edition_folder(tmp_path: Path, capfd: pytest.CaptureFixture[str], kind: str) -> None:
    folder = tmp_path / "FY2099"
    if kind == "folder":
        folder.write_text("x", encoding="utf-8")
    elif kind != "missing":
        folder.mkdir()
        for name, suffix in (("edition.toml", ".toml"), ("works.csv", ".csv")):
            broken(folder, kind, suffix).rename(folder / name)
    code, out, err = run(capfd, ["costing", "price", "--edition", str(folder), "--work-type", "道路維持工事",
                                 "--direct-cost", "5000000"])
    assert_no_traceback(code, out, err, 2, "FY2099", "edition.toml", "works.csv")


@pytest.mark.django_db
@pytest.mark.parametrize("argv", [
    ["template", "facilities", "--out", "{missing}/t.xlsx"],
    ["template", "measures", "--out", "{folder}"],
    ["export", "facilities", "--municipality", "292125", "--format", "csv", "--out", "{missing}/e.csv"],
    ["export", "inspections", "--municipality", "292125", "--format", "xlsx", "--out", "{folder}"],
    ["karte", "292125", "--format", "xlsx", "--out", "{missing}/k.xlsx"],
    ["karte", "29", "--format", "json", "--out", "{folder}"],
])
def test_output_paths(refdata, tmp_path: Path, capfd: pytest.CaptureFixture[str], argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "出力"
    folder.mkdir()
    args = [a.format(missing=tmp_path / "ない", folder=folder) for a in argv]
    code, out, err = run(capfd, args)
    assert_no_traceback(code, out, err, 2, "出力" if "{folder}" in argv[-1] else "ない")


def test_an_unexpected_error_is_a_short_message_and_a_log(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_template(args: object) -> int:
        raise ZeroDivisionError("division by zero in a bug")

    monkeypatch.setenv("GUNMANE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GUNMANE_DEBUG", raising=False)
    monkeypatch.setattr(ledger, "cmd_template", broken_template)
    code, out, err = run(capfd, ["template", "facilities", "--out", str(tmp_path / "t.xlsx")])
    assert code == cli_errors.EXIT_INTERNAL == 3 and "Traceback" not in err
    assert "予期しないエラーが発生しました（ZeroDivisionError: division by zero in a bug）" in err
    logs = list((tmp_path / "logs").glob("error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    logged = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in logged and "broken_template" in logged and "template facilities" in logged
    monkeypatch.setenv("GUNMANE_DEBUG", "1")
    code, out, err = run(capfd, ["template", "facilities", "--out", str(tmp_path / "t.xlsx")])
    assert code == 3 and "Traceback" in err and "ZeroDivisionError" in err


def test_interrupted_and_english(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(ledger, "cmd_template", interrupted)
    code, _, err = run(capfd, ["template", "facilities", "--out", str(tmp_path / "t.xlsx")])
    assert (code, err.strip()) == (130, "gunmane: 中断しました。")
    monkeypatch.setenv("GUNMANE_LANG", "en")
    code, _, err = run(capfd, ["deterioration", "fit", "--pairs", str(tmp_path / "none.csv")])
    assert code == 2 and "File or folder not found" in err and "none.csv" in err


def test_every_known_error_family_is_classified() -> None:
    """The bases named in KNOWN_ERRORS exist (a rename would silently make them 'unexpected')."""
    import importlib

    for qualified in cli_errors.KNOWN_ERRORS | cli_errors.WITHOUT_FILE_NAME:
        module, _, name = qualified.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), qualified
    from gunmane.io.ledger.tabular import TableError

    failure = cli_errors.classify(TableError("too_many_rows", "台帳.csv: 行数が上限を超えています", "x", row=12))
    assert failure is not None and (failure.exit_code, failure.code, failure.row) == (1, "too_many_rows", 12)
    assert cli_errors.classify(ValueError("bug")) is None


def family_members() -> list[tuple[BaseException, tuple[str, str, str | None, int | None, str | None]]]:
    """One of each error of the io and engine families, with the Failure the CLI makes of it
    (code, message, file, row, column) — as it did when it listed the classes one by one."""
    from gunmane.engine.costing.errors import UnknownWorkType
    from gunmane.engine.deterioration import NotIdentifiable
    from gunmane.engine.effects.errors import InvalidInput
    from gunmane.engine.lcc import LccError
    from gunmane.io.issues import Issue
    from gunmane.io.ledger.pairs import PairsFileError
    from gunmane.io.ledger.tabular import TableError
    from gunmane.io.limits import FileRefused
    from gunmane.io.national.common import NationalFileError
    from gunmane.io.scenario import ScenarioFileError
    from gunmane.io.shipped.lcc import LccParamsError

    pairs = PairsFileError([Issue(3, "前回の健全性", "Ⅴ", "grade_out_of_range", "Ⅰ〜Ⅳで入力してください", "I-IV")],
                           "ペア.csv")
    return [
        (TableError("too_many_columns", "台帳.csv: 列が多すぎます", "too many", row=2, column=7),
         ("too_many_columns", "台帳.csv: 列が多すぎます", None, 2, "7")),
        (FileRefused("file_too_large", "ファイルの大きさが上限を超えています。", "too large"),
         ("file_too_large", "ファイルの大きさが上限を超えています。（指定したファイル: 入力.csv）", None, None, None)),
        (pairs, ("grade_out_of_range", pairs.message_ja, "ペア.csv", None, None)),
        (NationalFileError(Issue(5, "判定区分", "Ⅴ", "grade_invalid", "判定区分が読めません", "bad", file="年報.xlsx")),
         ("grade_invalid", "年報.xlsx 5行目「判定区分」: 判定区分が読めません", "年報.xlsx", 5, "判定区分")),
        (NationalFileError(Issue(0, "", "", "not_json", "JSON ではありません", "not JSON", file="x.json")),
         ("not_json", "x.json: JSON ではありません", "x.json", None, None)),
        (ScenarioFileError("invalid_scenario", "s.toml: 「members」 一覧のはずです", "list", key="members"),
         ("invalid_scenario", "s.toml: 「members」 一覧のはずです", None, None, "members")),
        (LccParamsError("params/actions.csv: 3行目の費用が数ではありません"),
         ("LccParamsError", "params/actions.csv: 3行目の費用が数ではありません", None, None, None)),
        (NotIdentifiable("not_identifiable", "健全性Ⅱから先へ進んだペアがありません", "none", grade="II", column="after"),
         ("not_identifiable", "健全性Ⅱから先へ進んだペアがありません", None, None, "after")),
        (LccError("bad_years", "計画期間 40 年は 1〜30 年で指定してください。", "years"),
         ("bad_years", "計画期間 40 年は 1〜30 年で指定してください。", None, None, None)),
        (InvalidInput("negative", "施設数が負です", "negative", field="count"),
         ("negative", "施設数が負です", None, None, "count")),
        (UnknownWorkType("unknown_work_type", "工種区分「x」はありません", "unknown"),
         ("unknown_work_type", "工種区分「x」はありません", None, None, None)),
    ]


def test_the_error_families_map_to_exit_1_with_their_japanese_message() -> None:
    """The CLI catches the bases (IoFileError, EngineError); each member keeps the code, message, file, row and
    column it was reported with, and every member carries message_ja for a web view to show."""
    import argparse

    from gunmane.engine.errors import EngineError
    from gunmane.io.errors import IoFileError

    args = argparse.Namespace(file="入力.csv", format="text")
    for exc, expected in family_members():
        assert isinstance(exc, IoFileError | EngineError), exc
        assert exc.message_ja and exc.code
        failure = cli_errors.classify(exc, args)
        assert failure is not None, exc
        assert (failure.exit_code, failure.code, failure.message, failure.file, failure.row, failure.column) == (
            1, *expected), exc


@pytest.mark.parametrize(("argv", "expected"), [
    (["deterioration", "fit", "--pairs", "{tmp}/ない.csv"], 2),
    (["effects", "{tmp}/random.toml"], 1),
    (["template", "facilities", "--out", "{tmp}/ない/t.xlsx"], 2),
])
def test_a_real_process_prints_no_traceback(tmp_path: Path, argv: list[str], expected: int) -> None:
    (tmp_path / "random.toml").write_bytes(RANDOM)
    env = {**os.environ, "GUNMANE_DATA_DIR": str(tmp_path)}
    env.pop("GUNMANE_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "gunmane", *[a.format(tmp=tmp_path) for a in argv]], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == expected, done.stderr
    assert "Traceback" not in done.stdout + done.stderr and done.stderr.startswith("gunmane: ")
