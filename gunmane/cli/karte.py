"""`gunmane karte`: the カルテ (indicators of a scope) as JSON — the same numbers as the web page — Excel or PDF."""

from __future__ import annotations

import argparse
from typing import Any

from gunmane.cli.common import (
    EXIT_OK,
    UsageError,
    command,
    needs_out,
    scope,
    setup_django,
    t,
    write_file,
    write_json,
)


def cmd_karte(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.io.reports.karte_pdf import karte_pdf
    from gunmane.io.reports.karte_xlsx import karte_xlsx
    from gunmane.web.analysis import services

    where = scope(args.scope)
    if args.fiscal_year is not None and not 2020 <= args.fiscal_year <= 2024:
        raise UsageError(t("--fiscal-year は 2020〜2024 の年度を指定してください（参照データの範囲）。",
                           "--fiscal-year must be 2020–2024 (the reference data's range)."))
    karte = services.build_karte(where, fiscal_year=args.fiscal_year)
    if args.format == "json":
        write_json(karte.as_json(), args.out)
        return EXIT_OK
    writer = karte_pdf if args.format == "pdf" else karte_xlsx
    write_file(needs_out(args.format, args.out), lambda fh: writer(karte, fh),
               t(f"{where.name}のカルテを書き出しました: {args.out}", f"Wrote the karte of {where.name}: {args.out}"))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add `karte`."""
    s = command(sub, "karte", help=t("カルテ（見える化の指標）を出力する", "write the karte (indicators)"))
    s.add_argument("scope", help=t("national・都道府県コード（2桁）・団体コード・group:群の名称",
                                   "national, a prefecture code, a municipality code or group:NAME"))
    s.add_argument("--format", choices=["json", "xlsx", "pdf"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--fiscal-year", type=int, metavar="Y")
    s.set_defaults(func=cmd_karte)
