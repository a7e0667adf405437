"""`gunmane demo load`, `gunmane serve`, `gunmane worker` and `gunmane manage`: the demo data, the web app,
the task queue's worker (docs/tasks.md), Django's commands."""

from __future__ import annotations

import argparse
import os
from typing import Any

from gunmane.cli.common import EXIT_OK, command, err, setup_django, t
from gunmane.cli.ledger import cmd_init
from gunmane.cli.workers import task_workers


def cmd_demo(args: argparse.Namespace) -> int:
    cmd_init(args)
    from gunmane.web.demo import create_demo_group, create_demo_users, load_demo_ledger

    load_demo_ledger(log=err)
    create_demo_users(log=err)
    create_demo_group(log=err)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve with waitress (a production-grade pure-Python WSGI server, works on Windows office PCs too); with
    --production, several processes (gunmane.cli.production)."""
    if args.production:
        from gunmane.cli.production import serve as serve_production

        return serve_production(args)
    setup_django()
    from django.core.management import call_command
    from waitress import serve

    from gunmane.web.demo import DEMO_PASSWORD, DEMO_USERS
    from gunmane.web.wsgi import application

    call_command("check", deploy=False)
    from gunmane.web.registry.imports.records import mark_interrupted_imports

    if interrupted := mark_interrupted_imports():  # imports left running by a process that stopped
        err(t(f"中断された取り込み {len(interrupted)} 件を「失敗」にしました（番号 {', '.join(map(str, interrupted))}）。",
              f"Marked {len(interrupted)} interrupted import(s) as failed."))
    url = f"http://{args.host}:{args.port}/"
    err("")
    err("=" * 64)
    err(t(f"gunmane を起動しました: {url}", f"gunmane is running at {url}"))
    err(t(f"デモ用ログイン（パスワードはすべて {DEMO_PASSWORD}）:", f"Demo logins (password {DEMO_PASSWORD}):"))
    err(t("  admin（システム管理者）", "  admin (superuser)"))
    for username, _lg, role, display in DEMO_USERS:
        err(f"  {username}（{display}・{role.label}）")
    err(t("終了するには Ctrl+C を押してください。", "Press Ctrl+C to stop."))
    err("=" * 64)
    with task_workers(args.task_workers):
        serve(application, host=args.host, port=int(args.port), threads=args.threads, ident="gunmane")
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    """Run queued tasks until stopped (SIGINT/SIGTERM: the running task is finished first)."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    if settings.GUNMANE_TASKS == "immediate":
        err(t("GUNMANE_TASKS=immediate のため、タスクは依頼した処理の中で実行されます。worker は不要です。",
              "GUNMANE_TASKS=immediate runs tasks inside the request: no worker is needed."))
        return EXIT_OK
    if args.nice and hasattr(os, "nice"):  # POSIX; Windows has no niceness and keeps the normal priority
        # the queue's work (a 100,000-row import, national frames, PDFs) gives way to the pages people wait for:
        # on a 2-core server an import at the normal priority took a third of the CPU from the web processes
        os.nice(args.nice)
    call_command("db_worker", queue_name="*", interval=args.interval, reload=False, startup_delay=False,
                 batch=args.batch, verbosity=0 if args.quiet else 1)
    return EXIT_OK


def cmd_manage(args: argparse.Namespace) -> int:
    setup_django(check_migrations=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gunmane manage", *args.rest])
    return EXIT_OK


def register(sub: Any) -> None:
    """Add `demo`, `serve`, `worker` and `manage`."""
    s = command(sub, "demo", help=t("デモ地域（奈良モデル地域、合成施設）とデモ利用者を読み込む", "load the demo region and users"))
    s.add_argument("action", choices=["load"])
    s.set_defaults(func=cmd_demo)

    s = command(sub, "serve", help=t("Web アプリを起動する", "start the web app"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", default="8000")
    s.add_argument("--threads", type=int, default=8, help=t("1プロセスあたりのスレッド数", "threads per process"))
    s.add_argument("--task-workers", type=int, default=1, metavar="N", help=t(
        "一緒に起動するタスク実行プロセスの数（0: 起動しない。別に gunmane worker を動かすとき）",
        "task worker processes to start alongside (0: none, when `gunmane worker` runs separately)"))
    s.add_argument("--production", action="store_true", help=t(
        "本番モード：設定を確かめ、静的ファイルを集め、複数プロセスで起動（docs/deployment.md）",
        "production: check the settings, collect static files, serve with several processes"))
    s.add_argument("--workers", type=int, default=0, metavar="N", help=t(
        "本番モードの Web のプロセス数（既定: 2×コア数+1、最大8）",
        "web processes with --production (default 2×cores+1, at most 8)"))
    s.add_argument("--trusted-proxy", default="", metavar="ADDR", help=t(
        "X-Forwarded-Proto / -For を信頼するリバースプロキシのアドレス（既定 127.0.0.1）",
        "address of the reverse proxy whose X-Forwarded-* headers are trusted (default 127.0.0.1)"))
    s.set_defaults(func=cmd_serve)

    s = command(sub, "worker", help=t("タスクキューの処理（PDF・Excel・全国の集計表など）を実行する",
                                      "run the task queue's work (PDFs, workbooks, national frames)"))
    s.add_argument("--interval", type=float, default=0.5,
                   help=t("キューが空のとき次に確かめるまでの秒数", "seconds between looks at an empty queue"))
    s.add_argument("--batch", action="store_true",
                   help=t("待っているタスクをすべて実行したら終了する", "run the waiting tasks, then exit"))
    s.add_argument("--quiet", action="store_true", help=t("実行の記録を表示しない", "no log lines"))
    s.add_argument("--nice", type=int, default=10, metavar="N", help=t(
        "優先度を N だけ下げて動く（既定 10：画面の応答を先にする。0 で下げない）",
        "lower the priority by N (default 10: pages first; 0 keeps it)"))
    s.set_defaults(func=cmd_worker)

    s = command(sub, "manage", help=t("Django 管理コマンド（createsuperuser など）", "Django management commands"))
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_manage)
