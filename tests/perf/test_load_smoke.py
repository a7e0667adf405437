"""The load benchmark in small: a few signed-in users for 20 seconds must get no error at all.

It runs benchmarks/load.py itself — its dataset builder (2,000 synthetic facilities over Nara's 40
governments, the demo users and group), `gunmane serve` (waitress) on a free loopback port, and the Locust
users over the whole mix of pages and downloads — and fails on any failed request, any exception in the
users' code, or a page kind that was never requested. No timings are asserted here (a shared CI machine):
benchmarks/load.py measures them. On PostgreSQL only (the load goal is about a prefecture's server; the CI budget
keeps it out of the SQLite run): in a database of its own on the suite's server, dropped afterwards.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import load

pytestmark = pytest.mark.postgres
SECONDS = 20
EXPECTED = {"ログイン", "台帳一覧", "施設詳細", "カルテ", "群の概要", "効果試算の結果", "カルテ PDF", "カルテ Excel",
            "効果試算 Excel", "台帳 Excel"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """None (SQLite in the data folder), or a throwaway database on the suite's PostgreSQL server."""
    url = os.environ.get("GUNMANE_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    netloc = url.split("://", 1)[1].partition("/")[0]
    name = f"gunmane_load_smoke_{os.getpid()}"
    yield f"postgresql://{netloc}/{name}"
    with psycopg.connect(f"postgresql://{netloc}/postgres", autocommit=True) as conn:
        for database in (name, f"{name}_built"):  # the run and the copy load.py keeps for --reuse
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_a_few_users_over_the_whole_mix_get_no_error(tmp_path: Path, database_url: str | None) -> None:
    argv = ["--facilities", "2000", "--users", "6", "--spawn-rate", "3", "--seconds", str(SECONDS), "--no-warm-up",
            "--tour",
            "--data-dir", str(tmp_path), "--port", str(free_port())]
    if database_url:
        argv += ["--database-url", database_url]
    status = load.main(argv)
    (result,) = load.load_results(tmp_path)
    assert result.errors == [] and result.exceptions == [], (result.errors, result.exceptions)
    assert status == 0
    names = {n["name"]: n for n in result.names}
    assert set(names) >= EXPECTED, f"never requested: {EXPECTED - set(names)}"
    assert all(n["errors"] == 0 for n in names.values())
    # the first download of each file is made on the task queue: its progress page and polls count as 作成待ち
    assert {k["name"] for k in result.kinds} == {"HTML", "download", "sign-in", "queued"}
    assert sum(n["count"] for n in names.values()) >= 6 * 10  # users were busy all along
    assert result.memory, "the server's memory was not sampled"
