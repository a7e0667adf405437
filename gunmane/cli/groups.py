"""`gunmane groups list` and `gunmane documents generate`: the groups, and a group's 実施方針, 協定書 or 仕様書
as .docx or PDF (the same as the web)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gunmane.cli.common import EXIT_OK, UsageError, command, setup_django, t, write_file


def cmd_groups(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.web.groups.models import Group

    for name in Group.objects.order_by("name").values_list("name", flat=True):
        print(name)
    return EXIT_OK


def cmd_documents(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.web.groups.documents import document_input
    from gunmane.web.groups.models import Group
    from gunmane.web.groups.views import generate

    group = Group.objects.filter(name=args.group).first()
    if group is None:
        names = "、".join(Group.objects.values_list("name", flat=True)) or "（群がありません）"
        raise UsageError(t(f"群「{args.group}」が見つかりません。あるのは：{names}", f"no group named {args.group!r}"))
    if args.kind == "spec":
        lots = [lot.lot_id for lot in document_input(group).lots]
        if not args.lot:
            raise UsageError(t(f"仕様書には --lot が必要です（この群のロット：{'、'.join(lots) or 'なし'}）。",
                               f"--lot is required for a spec (lots: {', '.join(lots)})"))
        if args.lot not in lots:
            raise UsageError(t(f"ロット「{args.lot}」はありません（この群のロット：{'、'.join(lots) or 'なし'}）。",
                               f"no lot {args.lot!r} (lots: {', '.join(lots)})"))
    doc = generate(group, args.kind, args.format, args.lot or "")
    out = Path(args.out)
    with doc.file.open("rb") as fh:
        content = fh.read()
    write_file(str(out), content, t(f"{doc.get_kind_display()} 第{doc.version}版を書き出しました: {out}",
                                    f"written: {out} (version {doc.version})"))
    return EXIT_OK


def register_documents(sub: Any) -> None:
    """Add `documents`."""
    s = command(sub, "documents", help=t("群の文書（実施方針・協定書・仕様書）をつくる", "generate group documents"))
    s.add_argument("action", choices=["generate"])
    s.add_argument("--group", required=True, metavar="NAME", help=t("群の名称（gunmane groups list）", "group name"))
    s.add_argument("--kind", required=True, choices=["policy", "agreement", "spec"])
    s.add_argument("--lot", metavar="ID", help=t("仕様書のロット（例 L1）", "lot id for a spec"))
    s.add_argument("--format", choices=["docx", "pdf"], default="docx")
    s.add_argument("--out", required=True, metavar="FILE")
    s.set_defaults(func=cmd_documents)


def register_groups(sub: Any) -> None:
    """Add `groups`."""
    s = command(sub, "groups", help=t("群の一覧", "list groups"))
    s.add_argument("action", choices=["list"])
    s.set_defaults(func=cmd_groups)
