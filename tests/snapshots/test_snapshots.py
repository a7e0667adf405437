"""Before/after guard for restructuring (#17): shipped parameters and the demo's CLI JSON stay exactly equal.

The expected files were captured from the code before the restructuring; a difference is a change of
behaviour. Set GUNMANE_UPDATE_SNAPSHOTS=1 to rewrite them when a change of figures is intended.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.snapshots.capture import CLI_RUNS, ROOT, capture_parameters, gunmane_command, run_cli

EXPECTED = Path(__file__).with_name("expected")
UPDATE = os.environ.get("GUNMANE_UPDATE_SNAPSHOTS") == "1"

def _compare(name: str, actual: Any) -> None:
    path = EXPECTED / f"{name}.json"
    if UPDATE:
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    expected = json.loads(path.read_text(encoding="utf-8"))
    # Compare as JSON text so that 1 and 1.0 and key order are judged the way a consumer of the JSON sees them;
    # floats to 10 significant digits (the fits' last bits differ between CPUs, e.g. Intel and AMD).
    assert json.dumps(_digits(actual), ensure_ascii=False, sort_keys=True) == json.dumps(
        _digits(expected), ensure_ascii=False, sort_keys=True), name


def _digits(value: Any) -> Any:
    """``value`` with every float rounded to 10 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _digits(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_digits(v) for v in value]
    return value


def test_shipped_parameters_unchanged() -> None:
    _compare("parameters", json.loads(json.dumps(capture_parameters(), ensure_ascii=False)))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("snapshot-demo")
    env = {k: v for k, v in os.environ.items() if k != "GUNMANE_DATABASE_URL"} | {"GUNMANE_DATA_DIR": str(data)}
    done = subprocess.run(gunmane_command(["demo", "load"]), env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return data


@pytest.mark.parametrize("name", sorted(CLI_RUNS))
def test_demo_cli_json_unchanged(name: str, demo_dir: Path) -> None:
    _compare(f"cli-{name}", run_cli(CLI_RUNS[name], demo_dir))
