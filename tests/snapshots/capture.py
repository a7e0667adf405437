"""Capture what the restructuring of #17 must not change: every shipped parameter value and the demo's CLI JSON.

The captures are flat, keyed by stable names (not by class or module), so that moving code or merging the
parameter classes leaves them equal while any changed value, unit or source shows up as a diff.

Regenerate (only when a change of figures is intended, and say so in the commit):

    GUNMANE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/snapshots
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: The day the expected files were captured. Figures depend on the day (ages, discounting from the 基準日): every
#: run — the demo load and each command — runs on this day's clock (time-machine), so the snapshots hold tomorrow.
CAPTURED_ON = "2026-12-07T12:00:00+09:00"
# `python -m gunmane ARGS` on the day above: the clock moves from there (tick), as in a real run.
_ON_THE_DAY = ("import sys, time_machine; time_machine.travel(sys.argv.pop(1), tick=True).start(); "
               "from gunmane.cli import main; sys.exit(main())")


def gunmane_command(args: list[str]) -> list[str]:
    """The command line of ``gunmane ARGS`` run on CAPTURED_ON."""
    return [sys.executable, "-c", _ON_THE_DAY, CAPTURED_ON, *args]
GROUP = "奈良モデル地域（宇陀市・曽爾村・御杖村・東吉野村）"
SCENARIO = str(ROOT / "examples" / "scenarios" / "nara-model.toml")

#: name → CLI arguments; each prints JSON on stdout against the demo database
CLI_RUNS: dict[str, list[str]] = {
    "karte-national": ["karte", "national", "--format", "json", "--fiscal-year", "2024"],
    "karte-prefecture": ["karte", "29", "--format", "json", "--fiscal-year", "2024"],
    "karte-municipality": ["karte", "292125", "--format", "json", "--fiscal-year", "2024"],
    "karte-group": ["karte", f"group:{GROUP}", "--format", "json", "--fiscal-year", "2024"],
    "effects": ["effects", SCENARIO, "--format", "json"],
    "effects-sensitivity": ["effects", SCENARIO, "--format", "json", "--sensitivity"],
    "effects-regional": ["effects", str(ROOT / "tests" / "scenarios" / "regional_maintenance.toml"), "--format", "json"],
    "lcc-group": ["lcc", f"group:{GROUP}", "--format", "json"],
    "plan-group": ["plan", f"group:{GROUP}", "--format", "json", "--budget", "1億"],
    "plan-level": ["plan", "292125", "--format", "json", "--mode", "level"],
    "deterioration-group": ["deterioration", "fit", "--ledger", f"group:{GROUP}", "--format", "json"],
    "costing-works": ["costing", "price", "--work-type", "橋梁保全工事", "--direct-cost", "12500000", "--format", "json"],
    "costing-service": ["costing", "price", "--service", "点検業務", "--direct-labour", "130000", "--format", "json"],
    "costing-editions": ["costing", "editions", "--format", "json"],
    # a time limit the target-gap stop always comes before: the interleaved search is then the same on any machine,
    # where the scenario's 20 s cut a busy machine's search short, at a different design
    "lots": ["lots", SCENARIO, "--format", "json", "--time-limit", "300"],
}

#: keys whose value is a clock reading or a path of this run, not a figure
VOLATILE = {"generated_at", "elapsed_s", "elapsed_seconds", "wall_time_s", "solve_seconds", "created_at", "seconds"}


def _clean(value: Any) -> Any:
    """Clock readings out, and the checkout's folder as ``<repo>`` (CI clones elsewhere)."""
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE else _clean(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return value.replace(str(ROOT), "<repo>")
    return value


def run_cli(args: list[str], data_dir: Path) -> Any:
    # always the embedded SQLite database of ``data_dir``, also when the suite runs against PostgreSQL
    env = {k: v for k, v in os.environ.items() if k != "GUNMANE_DATABASE_URL"}
    env |= {"GUNMANE_DATA_DIR": str(data_dir), "PYTHONHASHSEED": "0"}
    done = subprocess.run(gunmane_command(args), env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"gunmane {' '.join(args)} → {done.returncode}\n{done.stderr[-3000:]}")
    return _clean(json.loads(done.stdout))


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and numpy arrays as JSON-able values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return value.name
    return value


def _sourced(p: Any) -> dict[str, Any]:
    """A sourced parameter as the four things that must not change, whichever class carries it."""
    out = {"value": _plain(p.value), "unit": p.unit, "source": p.source}
    flag = getattr(p, "assumption", None)
    out["assumption"] = bool(flag) if flag is not None else (p.status == "assumption")
    return out


def capture_parameters() -> dict[str, Any]:
    """Every shipped parameter: effects defaults, LCC/plan tables, every costing edition."""
    from gunmane.io.shipped.costing import costing_editions, load_costing_edition
    from gunmane.io.shipped.lcc import load_lcc_parameters
    from gunmane.io.shipped.parameters import effects_defaults

    out: dict[str, Any] = {}
    for p in effects_defaults():
        out[f"effects.{p.id}"] = _sourced(p)
    lcc = load_lcc_parameters()
    for p in lcc.params.scalar_parameters():
        out[f"lcc.{p.key}"] = _sourced(p)
    for name in ("theta_i", "theta_ii", "theta_iii"):
        p = getattr(lcc.hazards, name)
        out[f"lcc.{p.key}"] = _sourced(p)
    for name in ("risk_iv_yen_per_year", "risk_iii_yen_per_year", "weight_per_detour_km",
                 "weight_per_age_year_over_50", "deadline_years"):
        p = getattr(lcc.plan, name)
        out[f"lcc.{p.key}"] = _sourced(p)
    for a in lcc.params.actions:
        out[f"lcc.action.{a.facility_type}.{a.grade}"] = {
            "action": a.action_ja, "per_m2_yen": a.per_m2_yen, "fixed_yen": a.fixed_yen,
            "restores_to": a.restores_to, "source": a.source, "assumption": a.assumption}
    for edition in costing_editions():
        out[f"costing.{edition}"] = _plain(load_costing_edition(edition))
    return _clean(out)
