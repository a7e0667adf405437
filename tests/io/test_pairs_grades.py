"""Pairs files write grades every way a ledger does (Ⅰ–Ⅳ, I–IV, 1–4, full-width digits); the three-state
models (`--merge-iv`, `--states I,II,III`) read them too (issue 12: 「数値で入力してください」 for "I")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gunmane.cli import main
from gunmane.engine.deterioration import StateSpace, transition_matrix
from gunmane.io.ledger.pairs import PairsFileError, read_pairs

WRITINGS = {
    "full": ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"],
    "ascii": ["I", "II", "III", "IV"],
    "digits": ["1", "2", "3", "4"],
    "wide": ["１", "２", "３", "４"],
}


def pairs_csv(path: Path, writing: list[str], *, n: int = 900, top: int = 4, seed: int = 3) -> Path:
    """Simulated pairs from a known 4-grade hazard model, grades written with ``writing``."""
    rng = np.random.default_rng(seed)
    p = transition_matrix(np.array([0.12, 0.08, 0.05]), 5.0)
    lines = ["施設ID,前回の健全性,今回の健全性,経過年数"]
    for i in range(n):
        before = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        after = min(int(rng.choice(4, p=p[before - 1])) + 1, top)
        lines.append(f"B{i:04d},{writing[before - 1]},{writing[after - 1]},5")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("writing", list(WRITINGS))
def test_every_writing_reads_the_same_for_merged_and_three_state_models(tmp_path: Path, writing: str) -> None:
    reference = read_pairs(pairs_csv(tmp_path / "ref.csv", WRITINGS["digits"])).pairs.frame
    f = pairs_csv(tmp_path / f"{writing}.csv", WRITINGS[writing])
    merged = read_pairs(f, states=StateSpace.grades(merge_iv=True)).pairs.frame
    assert merged["before"].tolist() == reference["before"].tolist()
    assert merged["after"].tolist() == reference["after"].tolist()
    three = read_pairs(pairs_csv(tmp_path / f"{writing}3.csv", WRITINGS[writing], top=3),
                       states=StateSpace(("I", "II", "III"))).pairs.frame
    assert three["after"].max() == 3 and three["before"].min() == 1


def test_a_grade_beyond_a_three_state_model_names_the_remedy(tmp_path: Path) -> None:
    f = pairs_csv(tmp_path / "iv.csv", WRITINGS["full"])
    with pytest.raises(PairsFileError) as exc:
        read_pairs(f, states=StateSpace(("I", "II", "III")))
    issue = exc.value.issues[0]
    assert issue.value == "Ⅳ" and issue.column == "今回の健全性" and issue.row >= 2
    assert "Ⅰ・Ⅱ・Ⅲ" in issue.message_ja and "まとめる" in issue.message_ja


def test_cli_fit_merge_iv_and_states_on_roman_numerals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = pairs_csv(tmp_path / "ascii.csv", WRITINGS["ascii"])
    assert main(["deterioration", "fit", "--pairs", str(f), "--merge-iv"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["states"] == ["I", "II", "III+IV"]
    three = pairs_csv(tmp_path / "three.csv", WRITINGS["full"], top=3)
    assert main(["deterioration", "fit", "--pairs", str(three), "--states", "I,II,III"]) == 0
    assert json.loads(capsys.readouterr().out)["states"] == ["I", "II", "III"]
