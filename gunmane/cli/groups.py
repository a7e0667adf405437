"""`gunmane groups list` and `gunmane documents generate`: the groups, and a group's 実施方針, 協定書 or 仕様書
as .docx or PDF (the same as the web), or the figures they state as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from gunmane.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    command,
    err,
    needs_out,
    setup_django,
    t,
    write_file,
    write_json,
)


def cmd_groups(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.web.groups.models import Group

    for name in Group.objects.order_by("name").values_list("name", flat=True):
        print(name)
    return EXIT_OK


def _author(group: Any, given: str | None) -> str:
    """作成者 on the command line: ``--author`` (「氏名（所属）」), else the lead member (the organisation)."""
    if given:
        return given
    from gunmane.web.groups.models import MemberRole

    lead = group.accepted_members().filter(role=MemberRole.LEAD).select_related("municipality").first()
    return f"{lead.municipality.name}（幹事団体）" if lead is not None else ""


def cmd_documents(args: argparse.Namespace) -> int:
    if args.format != "json":
        needs_out(args.format, args.out)
    setup_django()
    from dataclasses import asdict, replace

    from gunmane.io.documents.checker import DocumentCheckError
    from gunmane.io.documents.figures import document_figures
    from gunmane.web.groups.documents import document_input, document_version, jsonable
    from gunmane.web.groups.models import Group
    from gunmane.web.groups.views import generate

    group = Group.objects.filter(name=args.group).first()
    if group is None:
        names = "、".join(Group.objects.values_list("name", flat=True)) or "（群がありません）"
        raise UsageError(t(f"群「{args.group}」が見つかりません。あるのは：{names}", f"no group named {args.group!r}"))
    author = _author(group, args.author)
    inp = document_input(group, author=author)
    if args.kind == "spec":
        lots = [lot.lot_id for lot in inp.lots]
        if not args.lot:
            raise UsageError(t(f"仕様書には --lot が必要です（この群のロット：{'、'.join(lots) or 'なし'}）。",
                               f"--lot is required for a spec (lots: {', '.join(lots)})"))
        if args.lot not in lots:
            raise UsageError(t(f"ロット「{args.lot}」はありません（この群のロット：{'、'.join(lots) or 'なし'}）。",
                               f"no lot {args.lot!r} (lots: {', '.join(lots)})"))
    try:
        if args.format == "json":
            # the figures the document of this kind states, under the version its Word and PDF carry
            version, _ = document_version(group, args.kind, args.lot or "", jsonable(asdict(inp)))
            inp = replace(inp, version=version)
            _check(inp, args.kind, args.lot or "")
            write_json({"status": "ok", **document_figures(inp, args.kind, args.lot or "")}, args.out,
                       written=t(f"文書の数値を書き出しました: {args.out}", f"written: {args.out}"))
            return EXIT_OK
        doc = generate(group, args.kind, args.format, args.lot or "", author=author)
    except DocumentCheckError as exc:
        err(f"gunmane: {exc}")
        return EXIT_INVALID
    with doc.file.open("rb") as fh:
        content = fh.read()
    write_file(args.out, content, t(f"{doc.get_kind_display()} 第{doc.version}版を書き出しました: {args.out}",
                                    f"written: {args.out} (version {doc.version})"))
    return EXIT_OK


def _check(inp: Any, kind: str, lot: str) -> None:
    """The checker on the document of ``kind`` (as the Word and PDF writers run it)."""
    from gunmane.io.documents.agreement import agreement_doc
    from gunmane.io.documents.checker import check_document
    from gunmane.io.documents.policy import policy_doc
    from gunmane.io.documents.spec import spec_doc

    doc = {"policy": lambda: policy_doc(inp), "agreement": lambda: agreement_doc(inp),
           "spec": lambda: spec_doc(inp, lot)}[kind]()
    check_document(doc, inp)


def register_documents(sub: Any) -> None:
    """Add `documents`."""
    s = command(sub, "documents", help=t("群の文書（実施方針・協定書・仕様書）をつくる", "generate group documents"))
    s.add_argument("action", choices=["generate"])
    s.add_argument("--group", required=True, metavar="NAME", help=t("群の名称（gunmane groups list）", "group name"))
    s.add_argument("--kind", required=True, choices=["policy", "agreement", "spec"])
    s.add_argument("--lot", metavar="ID", help=t("仕様書のロット（例 L1）", "lot id for a spec"))
    s.add_argument("--format", choices=["docx", "pdf", "json"], default="docx",
                   help=t("docx・pdf は文書、json は文書が述べる数値（団体・役割・負担割合・負担額・期間・スケジュール・"
                          "予定価格・契約数・職員時間・版）", "docx/pdf: the document; json: the figures it states"))
    s.add_argument("--author", metavar=t("氏名（所属）", "NAME"),
                   help=t("作成者（例「山田 太郎（宇陀市）」。省略時は幹事団体）", "author (default: the lead member)"))
    s.add_argument("--out", metavar="FILE", help=t("書き出すファイル（json は省略すると標準出力）", "output file"))
    s.set_defaults(func=cmd_documents)


def register_groups(sub: Any) -> None:
    """Add `groups`."""
    s = command(sub, "groups", help=t("群の一覧", "list groups"))
    s.add_argument("action", choices=["list"])
    s.set_defaults(func=cmd_groups)
