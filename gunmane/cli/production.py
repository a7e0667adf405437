"""`gunmane serve --production`: the web app for a whole prefecture on one server.

Several worker processes (gunicorn, each with threads: one slow page or PDF never holds up everyone), the task
workers beside them (long work runs off the request), static files collected once with hashed names and served
compressed with a year's cache, settings from the environment (docs/deployment.md). gunicorn runs on Linux and
other POSIX systems only; on Windows the same command serves with waitress (threads in one process) and says so.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from gunmane.cli.common import EXIT_OK, err, setup_django, t
from gunmane.cli.workers import task_workers


def default_workers() -> int:
    """gunicorn's usual 2 × cores + 1, at most 8: each process holds its own copy of the national frames."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def prepare() -> None:
    """Refuse an unsafe configuration, then collect the static files (quick when nothing changed)."""
    os.environ.setdefault("GUNMANE_PRODUCTION", "1")
    setup_django()
    from django.core.management import call_command

    call_command("check", deploy=True, fail_level="WARNING")
    call_command("collectstatic", interactive=False, verbosity=0)


def serve(args: argparse.Namespace) -> int:
    prepare()
    workers = args.workers or default_workers()
    bind = f"{args.host}:{args.port}"
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # Windows: no fork, no gunicorn
        from waitress import serve as waitress_serve

        from gunmane.web.wsgi import application

        err(t(f"gunicorn が使えないため waitress（1プロセス・{args.threads}スレッド）で {bind} に起動します。",
              f"gunicorn is not available: serving with waitress ({args.threads} threads) on {bind}."))
        with task_workers(args.task_workers):
            waitress_serve(application, host=args.host, port=int(args.port), threads=args.threads, ident="gunmane",
                           trusted_proxy=args.trusted_proxy or "127.0.0.1",
                           trusted_proxy_headers="x-forwarded-for x-forwarded-proto")
        return EXIT_OK

    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": args.threads,
        "timeout": 120,  # a PDF or Excel file made in the request before the task queue takes it
        "graceful_timeout": 30,
        # an idle kept-alive connection stays open 5 s: longer than a person's pause between clicks, so a browser
        # seldom reuses one the server is closing at that moment (the load test saw such resets at gunicorn's 2 s)
        "keepalive": 5,
        "max_requests": 2000,  # a process is replaced now and then: memory stays flat over months
        "max_requests_jitter": 200,
        "forwarded_allow_ips": args.trusted_proxy or "127.0.0.1",
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "gunmane",
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from gunmane.web.wsgi import application

            return application

    err(t(f"本番モードで起動します: {bind}（{workers} プロセス × {args.threads} スレッド、"
          f"タスクワーカー {args.task_workers}）", f"Production: {bind} ({workers} processes × {args.threads} threads, "
          f"{args.task_workers} task workers)"))
    with task_workers(args.task_workers):
        Server().run()  # the master stops gracefully on SIGTERM and leaves through task_workers' `finally`
    return EXIT_OK
