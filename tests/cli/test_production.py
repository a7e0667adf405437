"""`gunmane serve --production`: several processes, static files collected with hashed names and served
compressed with a long cache, the HTTPS rules of production, a clean stop on SIGTERM (as systemd sends)."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "gunmane.example.lg.jp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": HOST, "X-Forwarded-Proto": "https", **headers})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (read from /proc: no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn は POSIX のみ")
def test_serve_production_runs_several_processes_and_serves_collected_static_files(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNMANE_", "DJANGO_"))}
    env.update({
        "GUNMANE_PRODUCTION": "1", "GUNMANE_SECRET_KEY": secrets.token_urlsafe(50), "GUNMANE_ALLOWED_HOSTS": HOST,
        "GUNMANE_BEHIND_PROXY": "1", "GUNMANE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO),
    })
    cli = [sys.executable, "-m", "gunmane.cli"]
    subprocess.run([*cli, "manage", "migrate", "--noinput", "-v", "0"], env=env, check=True, timeout=300)
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--production", "--port", str(port), "--workers", "2",
                               "--task-workers", "0"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _, body = get(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "本番モードのサーバーが起動しません"
                time.sleep(0.5)
        assert status == 200
        # the page names the collected, hashed file; WhiteNoise sends it compressed, cacheable for a long time
        css = re.search(rb'/static/gunmane/app\.[0-9a-f]{12}\.css', body)
        assert css is not None, body[:500]
        status, headers, _ = get(f"http://127.0.0.1:{port}{css.group().decode()}", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("content-encoding") == "gzip"
        assert "immutable" in headers["cache-control"] and "max-age=315360000" in headers["cache-control"]
        # two web processes under the master (gunicorn's workers are its children)
        assert len(children_of(server.pid)) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        _, log = server.communicate(timeout=60)
    assert server.returncode == 0, log
    assert "本番モードで起動します" in log and "2 プロセス" in log
