"""Start-up of the `gunmane` command: what a command imports, not how long it takes (issue #15 §6).

`gunmane --help` and `gunmane deterioration fit --pairs FILE` are meant to finish in well under a second as whole
processes (timed side by side with R's msm in benchmarks/deterioration.py --startup; figures in
docs/benchmarks.md). What made them slow was importing: Django, pandas and the engine for --help, scipy.stats and
scipy.optimize (about a second) for a fit that itself takes a tenth of that. Timings on a shared machine are
noise, so this test guards the structure instead: each command runs in a fresh interpreter under
``python -X importtime`` and the modules it imported are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def imported(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m gunmane.cli ARGS`` in a fresh process; its result and every module imported."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "GUNMANE_DATA_DIR": str(tmp_path / "data")}
    env.pop("GUNMANE_LANG", None)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gunmane.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, modules


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} | {m for m in modules if m.startswith("gunmane.")}


def test_help_imports_only_the_standard_library_and_the_cli(tmp_path: Path) -> None:
    proc, modules = imported(["--help"], tmp_path)
    assert proc.returncode == 0 and "usage: gunmane" in proc.stdout, proc.stderr[-2000:]
    assert "gunmane.cli.lcc" in modules  # the record is read right: the parsers' modules are in it
    heavy = {"django", "numpy", "pandas", "scipy", "openpyxl", "reportlab", "gunmane.engine", "gunmane.io",
             "gunmane.web"}
    assert not heavy & tops(modules), sorted(heavy & tops(modules))


def test_fit_from_a_pairs_file_needs_neither_scipy_nor_django(tmp_path: Path) -> None:
    """The fit: numpy, the pairs reader and the model — no pandas (numpy columns), no scipy (Newton's method in
    numpy, the normal quantile from the standard library), no Django (a pairs file is not the database)."""
    rng = np.random.default_rng(15)
    before = rng.choice([1, 2, 3], 400, p=[0.5, 0.35, 0.15])
    years = np.round(rng.uniform(1, 10, 400), 2)
    after = np.minimum(before + rng.binomial(2, 1 - np.exp(-0.12 * years)), 4)
    path = tmp_path / "pairs.csv"
    path.write_text("施設ID,前回の健全性,今回の健全性,経過年数\n" + "".join(
        f"B{k},{b},{a},{z}\n" for k, (b, a, z) in enumerate(zip(before, after, years, strict=True))), encoding="utf-8")
    proc, modules = imported(["deterioration", "fit", "--pairs", str(path)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["n_pairs"] == 400 and set(out["hazards"]) == {"I", "II", "III"}
    assert all(lo < out["hazards"][g] < hi for g, (lo, hi) in
               ((g, out["confidence_intervals"][g]) for g in ("I", "II", "III")))
    assert {"numpy", "gunmane.engine.deterioration.estimation", "gunmane.io.ledger.pairs"} <= modules
    # pandas costs a third of a second: the pairs file is read into numpy columns (PairColumns) and fitted as such
    heavy = {"pandas", "scipy", "django", "gunmane.web", "openpyxl", "reportlab", "matplotlib"}
    assert not heavy & tops(modules), sorted(heavy & tops(modules))


def test_the_deterioration_engine_imports_no_scipy() -> None:
    """Pooling (--pool-by) still uses scipy.optimize, imported where it is called; importing the engine does not,
    nor pandas (imported by the functions that make frames)."""
    code = ("import sys, gunmane.engine.deterioration as d; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'django', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert out.strip() == "[]", out
