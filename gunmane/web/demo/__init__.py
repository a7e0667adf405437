"""Load the demo region (Nara model region), the demo users and the demo group into the database.

The municipalities and their statistics are real reference data; the facilities, inspections and
measures are synthetic (gunmane.engine.demo_region, seeded) and go through the ordinary ledger importer, so the
demo exercises exactly what a user's upload does. The demo seeds every app (ledger, memberships, a group
with its workspace and 効果試算), so it sits above them all; only the CLI (gunmane demo load, gunmane serve)
and the tests use it.
"""

from __future__ import annotations

import json
import tempfile
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from gunmane.engine import demo_region as demo
from gunmane.io.ledger.export import to_json_record
from gunmane.io.ledger.grades import ROAD_SCALE, scale_of_type
from gunmane.io.ledger.schema import LedgerKind
from gunmane.io.shipped import refdata, vocab
from gunmane.web.accounts.models import Membership, Role
from gunmane.web.groups import workspace
from gunmane.web.groups.effects import default_scenario_toml, multisector_scenario_toml
from gunmane.web.groups.models import (
    ChecklistItem,
    CollaborationType,
    EffectScenario,
    Group,
    GroupMember,
    GroupSettings,
    ItemStatus,
    MemberDuties,
    MemberRole,
    MemberStatus,
)
from gunmane.web.registry.imports.ledger import ImportReport, LedgerImporter
from gunmane.web.registry.models import Municipality

DEMO_PASSWORD = "gunmane-demo"
# (username, lg_code, role, display name)
DEMO_USERS = (
    ("uda", "292125", Role.EDITOR, "宇陀市 土木担当"),
    ("soni", "293857", Role.EDITOR, "曽爾村 建設担当"),
    ("mitsue", "293865", Role.EDITOR, "御杖村 建設担当"),
    ("higashiyoshino", "294535", Role.EDITOR, "東吉野村 建設担当"),
    ("nara", "290009", Role.VIEWER, "奈良県 市町村支援担当"),
)
DEMO_ADMIN = "admin"

Log = Callable[[str], None]


def load_demo_ledger(log: Log | None = None, seed: int = 20251001) -> dict[str, ImportReport]:
    specs = demo.load_specs_from_reference(refdata.raw_rows("municipalities"), refdata.raw_rows("municipal_finance"))
    ledger = demo.generate_demo_ledger(specs, seed=seed)
    reports: dict[str, ImportReport] = {}
    with tempfile.TemporaryDirectory() as tmp, transaction.atomic():
        for kind, rows in ((LedgerKind.FACILITIES, ledger.facilities),
                           (LedgerKind.INSPECTIONS, written_inspections(ledger.facilities, ledger.inspections)),
                           (LedgerKind.MEASURES, ledger.measures)):
            path = Path(tmp) / f"demo_{kind.value}.json"
            path.write_text(json.dumps([to_json_record(kind, r) for r in rows], ensure_ascii=False),
                            encoding="utf-8")
            report = LedgerImporter(kind, path, display_name=f"デモ地域（合成データ）{kind.value}").run()
            if report.status != "ok":
                raise RuntimeError(f"demo {kind.value} import failed: {report.as_json()['errors'][:5]}")
            reports[kind.value] = report
            if log:
                log(f"デモ地域の{_ja(kind)}（合成データ）：{report.rows} 行（新規 {report.created}、更新 {report.updated}、"
                    f"変更なし {report.unchanged}）")
    return reports


# How inspection reports spell a grade, per scale (the index's label is put in for {}): the demo writes them
# as departments do, so that the import reads each sector's own spellings (issue #16 §2).
_SPELLINGS = {
    "park-AD": ("健全度{}", "{}", "{}判定"),
    "river-ad": ("{}",),
    "sewer-urg": ("{}",),
    "pave-3": ("{}", "診断区分{}"),
}


def _mci(grade: int, h: int) -> float:
    """An MCI (0–10, one decimal) that the default bins read as this 診断区分 (Ⅰ ≥ 5, Ⅱ 3–5, Ⅲ < 3)."""
    low, span = {1: (5.0, 45), 2: (3.0, 19), 3: (1.0, 19)}[grade]
    return round(low + (h % (span + 1)) / 10.0, 1)


def written_inspections(facilities: list[dict[str, object]], inspections: list[dict[str, object]]
                        ) -> list[dict[str, object]]:
    """The demo's inspections as their reports write them: each grade (an index on its facility type's scale,
    as demo_region draws it) spelled on that scale — 遊具 「健全度C」「B」, 樋門 「c」, 管渠 「緊急度Ⅱ」, 舗装
    「Ⅱ」 — and a third of the pavement sections by MCI (「MCI 3.4」), another third with an MCI column beside
    the 診断区分. Deterministic (a hash of the facility ID and date), so every figure stays the same."""
    type_of = {(f["lg_code"], f["facility_id"]): vocab.facility_type_code(str(f["facility_type"]))
               for f in facilities}
    out: list[dict[str, object]] = []
    for r in inspections:
        sc = scale_of_type(type_of.get((r["lg_code"], r["facility_id"])))
        if sc.id == ROAD_SCALE or sc.id not in _SPELLINGS:
            out.append(r)
            continue
        g = int(str(r["grade"]))
        h = zlib.crc32(f"{r['facility_id']}{r['inspected_on']}".encode())
        row = dict(r)
        if sc.id == "pave-3" and h % 3 == 0:
            row["grade"] = f"MCI {_mci(g, h // 3)}"
        else:
            forms = _SPELLINGS[sc.id]
            row["grade"] = forms[h % len(forms)].format(sc.label(g))
            if sc.id == "pave-3" and h % 3 == 1:
                row["measured_value"] = _mci(g, h // 3)
        out.append(row)
    return out


def _ja(kind: LedgerKind) -> str:
    return {LedgerKind.FACILITIES: "施設", LedgerKind.INSPECTIONS: "点検", LedgerKind.MEASURES: "措置"}[kind]


@transaction.atomic
def create_demo_users(log: Log | None = None) -> list[tuple[str, str]]:
    """Demo logins (idempotent; resets their passwords to the documented demo password)."""
    User = get_user_model()
    out = []
    admin, _ = User.objects.get_or_create(username=DEMO_ADMIN, defaults={"is_staff": True, "is_superuser": True})
    admin.is_staff = admin.is_superuser = True
    admin.first_name = "システム管理者"
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    out.append((DEMO_ADMIN, "システム管理者（全団体）"))
    for username, lg_code, role, display in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = display
        user.set_password(DEMO_PASSWORD)
        user.save()
        muni = Municipality.objects.get(lg_code=lg_code)
        Membership.objects.update_or_create(user=user, municipality=muni, defaults={"role": role})
        out.append((username, f"{muni.name}（{Role(role).label}）"))
    if log:
        log("デモ用のログイン（パスワードはすべて " + DEMO_PASSWORD + "）:")
        for username, what in out:
            log(f"  {username:16s} {what}")
    return out


DEMO_GROUP = "奈良モデル地域（宇陀市・曽爾村・御杖村・東吉野村）"
MULTISECTOR_DEMO = "多分野（道路・公園・河川・下水道）の包括的な契約"


@transaction.atomic
def create_demo_group(log: Log | None = None) -> None:
    """The demo region as a ready group: 宇陀市 (lead), three villages, 奈良県 supporting (vertical).

    Its members are seeded as having accepted (the demo stands for a group whose partners agreed)."""
    group, _ = Group.objects.update_or_create(name=DEMO_GROUP, defaults={
        "description": "国土交通省の群マネ・モデル地域（奈良県）をもとにしたデモ用の群。施設は合成データです。",
        "collaboration_types": [CollaborationType.HORIZONTAL.value, CollaborationType.VERTICAL.value]})
    roles = {"292125": MemberRole.LEAD, "293857": MemberRole.MEMBER, "293865": MemberRole.MEMBER,
             "294535": MemberRole.MEMBER, "290009": MemberRole.PREFECTURE}
    for lg_code, role in roles.items():
        GroupMember.objects.update_or_create(group=group, municipality=Municipality.objects.get(lg_code=lg_code),
                                             defaults={"role": role, "status": MemberStatus.ACCEPTED})
    seed_demo_workspace(group)
    if log:
        log(f"デモ用の群：{DEMO_GROUP}")


def seed_demo_workspace(group: Group) -> None:
    """The demo group's decisions, duties and first check items, so every page and document has content."""
    workspace.settings_of(group)
    GroupSettings.objects.filter(group=group).update(
        sectors=["road"], work_kinds=["inspection", "design", "works"],
        target_area="宇陀市・曽爾村・御杖村・東吉野村の全域（市村道の橋梁）",
        issues="人口減少と高齢化で技術職員が少なく、村では点検・発注を担う職員の確保が難しい\n"
               "建設後50年を超える橋梁が増え、Ⅲ判定の橋梁の措置が遅れている\n"
               "小規模な発注が多く、不調・不落と発注事務の負担が大きい",
        bundle_owners="宇陀市が幹事となり、4市村の橋梁の点検・補修設計・工事をまとめて発注する。奈良県は技術的に支援する。",
        bundle_people="市村の技術職員の合同研修と、県の技術職員による助言。",
        bundle_contractors="地元の建設業者による JV（地域維持型）を想定。",
        levers=["process", "multi_year", "data"], mechanism="agreement", executes_for_others=True,
        cost_share_rule="facility_count", term_years=3, start_fiscal_year=2026)
    tasks_by_role = {"lead": (["procurement", "data"], ["diagnosis", "closure", "accountability"]),
                     "member": (["inspection", "repair_design", "procurement", "data"],
                                ["diagnosis", "closure", "accountability", "plan"]),
                     "prefecture": ([], [])}
    for m in group.accepted_members():
        delegated, kept = tasks_by_role.get(m.role, ([], []))
        MemberDuties.objects.update_or_create(member=m, defaults={
            "delegated_tasks": delegated, "kept_judgements": kept,
            "plans": f"{m.municipality.name} 公共施設等総合管理計画\n{m.municipality.name} 橋梁長寿命化修繕計画（個別施設計画）"
            if m.role != "prefecture" else ""})
    if not EffectScenario.objects.filter(group=group).exists():
        # the scenario in the documents: 広域＋プロセス (the model region's CM-type joint contract)
        EffectScenario.objects.create(group=group, name=f"{group.name} 効果試算", toml=default_scenario_toml(group),
                                      chosen_index=2)
    if not EffectScenario.objects.filter(group=group, name=MULTISECTOR_DEMO).exists():
        # the second scenario: 多分野 (road, park, river, sewer under one comprehensive contract; synthetic facilities).
        # Dated before the first so the documents keep using the 広域 scenario until someone saves this one.
        main = EffectScenario.objects.filter(group=group).order_by("pk").first()
        ms = EffectScenario.objects.create(group=group, name=MULTISECTOR_DEMO, toml=multisector_scenario_toml(group),
                                           chosen_index=3)
        if main is not None:
            EffectScenario.objects.filter(pk=ms.pk).update(updated_at=main.updated_at - timedelta(seconds=1))
    first = ChecklistItem.objects.filter(group=group, stage="introduction").order_by("order")
    for item, url in zip(first[:2], (f"/karte/group/{group.pk}/", ""), strict=False):
        item.status = ItemStatus.DONE
        item.evidence_url = url
        item.save()
