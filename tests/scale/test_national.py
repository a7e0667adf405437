"""The national sweep (issue #14 §4) through a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on loopback, driven by `gunmane districts national --scheduler`, against the same sweep on a local
cluster (`--workers 2`). Two small prefectures (鳥取県, 島根県: 19 municipalities each, one weighted point per
municipality at its office) so the search ends by its restart cap, not the clock: the objectives must agree."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gunmane.cli import main

REPO = Path(__file__).resolve().parents[2]
# a generous limit: these 19-point tasks converge in well under a second, so the result does not depend on the load
ARGS = ["--prefectures", "31,32", "--sweep", "20:40:20", "--time-limit", "10", "--office-only"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_workers(address: str, n: int, timeout: float = 40.0) -> None:
    from distributed import Client

    with Client(address, timeout=timeout) as c:
        c.wait_for_workers(n, timeout=timeout)


@pytest.mark.django_db
def test_national_sweep_on_a_dask_scheduler_equals_local_cluster(refdata, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", str(port), "--dashboard-address", ":0", "--no-show"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                           "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                           "--host", "127.0.0.1"],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_for_workers(address, 2)
        remote = tmp_path / "remote.json"
        t0 = time.monotonic()
        assert main(["districts", "national", "--scheduler", address, *ARGS, "--out", str(remote)]) == 0
        remote_seconds = time.monotonic() - t0
    finally:
        for p in reversed(procs):
            p.kill()
        for p in procs:
            p.wait(timeout=10)
    local = tmp_path / "local.json"
    assert main(["districts", "national", "--workers", "2", *ARGS, "--out", str(local)]) == 0
    err = capsys.readouterr().err
    assert "4 件の計算" in err  # 2 prefectures × 2 distances
    a, b = json.loads(remote.read_text()), json.loads(local.read_text())
    assert a["workers"] == 2 and b["workers"] == 2 and a["tasks"] == 4
    assert remote_seconds < 40
    assert [p["code"] for p in a["prefectures"]] == ["31", "32"]
    # the same results on the scheduler as locally — when both proved their optimum; a search stopped by its time
    # limit (a busy machine) may stop at another partition
    proved = all(t["status"] == "optimal" for x in (a, b) for p in x["prefectures"] for t in p["tasks"].values())
    for pa, pb in zip(a["prefectures"], b["prefectures"], strict=True):
        assert pa["separate"] == pytest.approx(pb["separate"])
        if proved:
            assert pa["districted"] == pytest.approx(pb["districted"])
        assert pa["basis"] == {"ledger": 0, "office": pa["municipalities"] - pa["basis"]["none"],
                               "none": pa["basis"]["none"]}
        # districts never cost more than ordering alone, and a larger D never costs more
        assert pa["districted"]["40"] <= pa["districted"]["20"] + 1e-9 <= pa["separate"] + 1e-9
        assert pa["reduction"]["40"] == pytest.approx((pa["separate"] - pa["districted"]["40"]) / pa["separate"] * 100)
        for task in pa["tasks"].values():
            assert task["status"] in ("optimal", "feasible") and task["gap"] is not None
    assert {m["prefecture"] for m in a["municipalities"]} == {"31", "32"}
    if proved:
        assert a["municipalities"] == b["municipalities"]
    # the neighbours are symmetric: if x is grouped with y at D, y is grouped with x
    nb = {m["lg_code"]: m["neighbours"] for m in a["municipalities"]}
    for lg, by_d in nb.items():
        for d, others in by_d.items():
            assert all(lg in nb[o][d] for o in others)
    assert any(by_d.get("40") for by_d in nb.values())  # someone is grouped at 40 km
    assert a["q"] == 0.0123 and a["bundle_limit"] == 5 and a["sweep"] == ["20", "40"]
    assert any("役所位置で近似" in s for s in a["assumptions"])
