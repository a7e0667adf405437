"""What every benchmark script shares: the machine line, timing, and writing its own section of
docs/benchmarks.md without touching the others' sections."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Wall times of ``runs`` calls and the last result."""
    times: list[float] = []
    out: Any = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine(*libraries: str) -> str:
    """One line: cores, CPU, Python, the named libraries' versions, OS."""
    import importlib

    versions = []
    for name in libraries:
        try:
            versions.append(f"{name} {importlib.import_module(name).__version__}")
        except (ImportError, AttributeError):
            versions.append(f"{name} ?")
    parts = [f"nproc {os.cpu_count()}", cpu_model(), f"Python {platform.python_version()}", *versions,
             f"{platform.system()} {platform.release()}"]
    return ", ".join(parts)


def write_section(section: str, body: str) -> None:
    """Replace (or append) only ``section`` of docs/benchmarks.md; the file is re-read first, so several
    benchmark scripts can each keep their own section up to date."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# ベンチマーク\n"
    block = f"{section}\n\n{body.rstrip()}\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == section), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + block
    else:
        end = next((j for j in range(start + 1, len(lines))
                    if lines[j].startswith(("# ", "## ")) or lines[j].startswith("<!-- results:start")), len(lines))
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + block + ("\n" + tail if tail else "")
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(new, encoding="utf-8")
    log(f"wrote section 「{section[3:]}」 of {DOCS.relative_to(ROOT)}")
