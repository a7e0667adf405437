"""The signed-in home (guide.dashboard): a municipality's figures equal its カルテ, its group's stage and next
item, the next step, invitations, imports; a prefecture's ranking by need; the empty states; no leak of a
municipality's ledger figures to those ledger_figure_codes does not allow. The next-step rules are unit-tested
without a database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from gunmane.web.guide.nextstep import GroupTask, Invitation, Links, State, next_step
from tests.conftest import ensure_reference_data
from tests.words import html_text, internal_words

UDA, SONI, MITSUE, NARA_CITY = "292125", "293857", "293865", "292010"

# --------------------------------------------------------------------------- next-step rules (pure)

LINKS = Links(import_page="/import/", template="/template.xlsx", start_group="/guide/start/?lg=292125",
              karte="/karte/", cases="/guide/cases/")
TASK = GroupTask(group="南部の群", stage="導入検討", url="/groups/1/process/", item="群の候補を決めた",
                 owner="宇陀市", due=date(2027, 3, 31))


def _state(**kw: Any) -> State:
    base: dict[str, Any] = {"municipality": "宇陀市", "can_edit": True, "has_ledger": True, "links": LINKS}
    base.update(kw)
    return State(**base)


def test_an_invitation_comes_first() -> None:
    s = next_step(_state(has_ledger=False, invitations=(Invitation("南部の群", "/inv/"),), groups=(TASK,)))
    assert s.title == "南部の群への招待に回答しましょう" and s.links[0][1] == "/inv/"


def test_no_ledger_leads_to_the_import_and_the_template() -> None:
    s = next_step(_state(has_ledger=False, groups=(TASK,)))
    assert s.title == "施設台帳を取り込みましょう"
    assert [u for _, u in s.links] == ["/import/", "/template.xlsx"]
    viewer = next_step(_state(has_ledger=False, can_edit=False))
    assert "編集者に依頼" in viewer.title and [u for _, u in viewer.links] == ["/template.xlsx"]


def test_a_group_leads_to_its_next_item_with_owner_and_due_date() -> None:
    s = next_step(_state(groups=(TASK,), needs=("措置未着手 3施設",)))
    assert s.title == "確認項目「群の候補を決めた」を進めましょう" and "南部の群" in s.reason
    assert "導入検討" in s.reason and "担当：宇陀市" in s.reason and "2027年3月31日" in s.reason
    assert s.links[0][1] == "/groups/1/process/"


def test_no_group_and_a_need_leads_to_starting_a_group() -> None:
    s = next_step(_state(needs=("措置未着手 3施設",)))
    assert s.title == "近隣の団体と群をつくりましょう" and s.links[0][1] == "/guide/start/?lg=292125"
    assert "措置未着手 3施設" in s.reason


def test_no_group_and_no_need_leads_to_the_karte_and_cases() -> None:
    s = next_step(_state())
    assert [u for _, u in s.links] == ["/karte/", "/guide/cases/"]


def test_a_finished_group_is_looked_back_on() -> None:
    done = GroupTask(group="南部の群", stage="完了", url="/groups/1/")
    s = next_step(_state(groups=(done,)))
    assert "振り返り" in s.title and s.links[0][1] == "/groups/1/"


# --------------------------------------------------------------------------- pages on the demo


@dataclass
class Page:
    html: str
    context: Any
    text: str


@pytest.fixture(scope="module")
def pages(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """One demo database for the module: 御杖村 invited (not accepted), an owner and due date on the group's
    next item, an import of 宇陀市, a consultant of 宇陀市 and 大阪市, a user of 奈良市, a user with no
    membership; every home page fetched once, plus 宇陀市's カルテ JSON. Rolled back afterwards."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from gunmane.web.accounts.models import Membership, Role
    from gunmane.web.demo import DEMO_GROUP, create_demo_group, create_demo_users, load_demo_ledger
    from gunmane.web.groups.models import Group, GroupMember, ItemStatus, MemberStatus
    from gunmane.web.registry import frames
    from gunmane.web.registry.models import ImportKind, ImportRecord, ImportStatus, Municipality

    media = tmp_path_factory.mktemp("dashboard-media")
    with override_settings(MEDIA_ROOT=str(media)), django_db_blocker.unblock(), transaction.atomic():
        frames.clear_cache()
        ensure_reference_data()
        create_demo_users()
        load_demo_ledger()
        create_demo_group()
        group = Group.objects.get(name=DEMO_GROUP)
        GroupMember.objects.filter(group=group, municipality__lg_code=MITSUE).update(status=MemberStatus.INVITED)
        item = (group.checklist.filter(stage="introduction").exclude(status=ItemStatus.DONE)
                .order_by("order", "id").first())
        assert item is not None
        item.owner = Municipality.objects.get(lg_code=UDA)
        item.due_date = date(2027, 3, 31)
        item.save()
        muni = {m.lg_code: m for m in Municipality.objects.filter(lg_code__in=[UDA, NARA_CITY, "271004"])}
        ImportRecord.objects.create(kind=ImportKind.FACILITIES, municipality=muni[UDA], original_name="宇陀市_橋梁台帳.xlsx",
                                    status=ImportStatus.SUCCEEDED, rows=12, valid=12, created=12)
        User = get_user_model()
        users = {u.username: u for u in User.objects.filter(username__in=["uda", "nara", "mitsue", "admin"])}
        users["consultant"] = User.objects.create_user("consultant")
        Membership.objects.create(user=users["consultant"], municipality=muni[UDA], role=Role.VIEWER)
        Membership.objects.create(user=users["consultant"], municipality=muni["271004"], role=Role.VIEWER)
        users["nara-city"] = User.objects.create_user("nara-city")
        Membership.objects.create(user=users["nara-city"], municipality=muni[NARA_CITY], role=Role.EDITOR)
        users["nobody"] = User.objects.create_user("nobody")
        frames.clear_cache()
        out: dict[str, Any] = {"item": item.title}
        for name, user in users.items():
            c = Client()
            c.force_login(user)
            r = c.get(reverse("home"))
            assert r.status_code == 200, name
            html = r.content.decode()
            out[name] = Page(html, r.context, html_text(html))
            if name == "uda":
                out["karte"] = c.get(reverse("analysis:municipality", args=[UDA]) + "?format=json&type=bridge").json()
        yield out
        transaction.set_rollback(True)
    frames.clear_cache()


def _words(text: str) -> list[Any]:
    """Internal words on the page, less the cited source's own name (出典：Ina299/local_gov_vis, as on every page)."""
    return [f for f in internal_words(text) if f.match != "local_gov_vis"]


def _figure(page: Page, lg_code: str, ind: str) -> Any:
    panel = next(p for p in page.context["panels"] if p["muni"].lg_code == lg_code)
    return next(f for f in [*panel["figures"], panel["public_figure"]] if f.id == ind)


def _tile(html: str, ind: str) -> str:
    m = re.search(rf'data-figure="{ind}">(.*?)</li>', html, re.S)
    assert m, ind
    return html_text(m.group(1))


@pytest.mark.django_db
def test_uda_figures_equal_its_karte(pages: dict[str, Any]) -> None:
    page, karte = pages["uda"], pages["karte"]
    ind = {i["id"]: i for i in karte["indicators"]}
    age = _figure(page, UDA, "age_50plus_share")
    assert age.share == ind["age_50plus_share"]["value"] and age.base == ind["age_50plus_share"]["n"]
    assert age.count == round(ind["age_50plus_share"]["value"] * ind["age_50plus_share"]["n"] / 100)
    backlog = _figure(page, UDA, "backlog")
    assert backlog.count == ind["backlog"]["value"] and backlog.count > 0
    assert backlog.base == round(ind["grade_iii_iv_share"]["value"] * ind["grade_iii_iv_share"]["n"] / 100)
    overdue = _figure(page, UDA, "inspection_overdue")
    assert overdue.count == ind["inspection_overdue"]["value"] and overdue.base == ind["inspection_overdue"]["n"]
    public = _figure(page, UDA, "bridges_iii_iv_share")
    assert public.share == ind["bridges_iii_iv_share"]["value"]
    # the page shows them with unit and share, each linking to its カルテ row
    for f in (age, backlog, overdue):
        tile = _tile(page.html, f.id)
        assert f"{f.count:,}橋" in tile.replace(" ", "") and f"{f.share:.1f}%" in tile
        assert f'href="/karte/municipality/{UDA}/#ind-{f.id}"' in page.html or f"#ind-{f.id}" in page.html
    # the public figure has a peer rank (every municipality has it); 類似団体 N団体中 k位 as the カルテ's percentile
    m = re.search(r"類似団体 (\d+)団体中 (\d+)位", public.peers)
    assert m and int(m.group(2)) <= int(m.group(1))
    assert ind["bridges_iii_iv_share"]["peer_percentile"] is not None
    assert f"{karte['fiscal_year']}年度" in page.text


@pytest.mark.django_db
def test_uda_sees_its_group_next_item_next_step_and_import(pages: dict[str, Any]) -> None:
    page = pages["uda"]
    panel = page.context["panels"][0]
    row = panel["groups"][0]
    assert row["group"].name.startswith("奈良モデル地域") and row["stage"] == "導入検討"
    assert row["item"].title == pages["item"]
    assert "2027年3月31日まで" in page.text and pages["item"] in page.text
    step = panel["next_step"]
    assert step.title == f"確認項目「{pages['item']}」を進めましょう" and "担当：宇陀市" in step.reason
    assert "宇陀市_橋梁台帳.xlsx" in page.text and "/imports/" in page.html
    assert not _words(page.text)


@pytest.mark.django_db
def test_nara_ranks_its_municipalities_by_need(pages: dict[str, Any]) -> None:
    page = pages["nara"]
    panel = page.context["panels"][0]
    assert panel["kind"] == "prefecture"
    ledger = panel["ledger_rows"]
    assert {r["name"] for r in ledger} == {"宇陀市", "曽爾村", "御杖村", "東吉野村"}
    keys = [(r["backlog"], r["inspection_overdue"]) for r in ledger]
    assert keys == sorted(keys, reverse=True)
    public = panel["public_top"] + panel["public_rest"]
    shares = [r["bridges_share"] for r in public if r["bridges_share"] is not None]
    assert shares == sorted(shares, reverse=True) and len(ledger) + len(public) == 39
    # the page lists them in that order, ledger ones first
    names = [r["name"] for r in ledger + public]
    positions = [page.html.index(f'data-lg="{n}"') for n in names]
    assert positions == sorted(positions)
    assert "台帳のない市町村（公開統計" in page.text
    # its group with its stage, and the municipalities in no group (御杖村 has not accepted)
    assert panel["groups"][0]["stage"] == "導入検討"
    without = {r["name"] for r in panel["without_group"]}
    assert "御杖村" in without and "宇陀市" not in without and "奈良市" in without
    assert not _words(page.text)


@pytest.mark.django_db
def test_the_invited_municipality_sees_the_invitation(pages: dict[str, Any]) -> None:
    page = pages["mitsue"]
    panel = page.context["panels"][0]
    inv = panel["invitations"][0]
    assert f"/groups/{inv.group_id}/members/{inv.pk}/invitation/" in page.html
    assert panel["next_step"].title == f"{inv.group.name}への招待に回答しましょう"
    assert panel["groups"] == []


@pytest.mark.django_db
def test_empty_states_say_what_to_do(pages: dict[str, Any]) -> None:
    assert "まだどの団体にも所属していません" in pages["nobody"].text
    assert "管理者に所属" in pages["nobody"].text
    admin = pages["admin"]
    assert "システム全体（管理者）" in admin.text and "<table" in admin.html  # the imports, not 40 rows of zeros
    assert admin.context["admin"]["municipalities_with_ledger"] == 4
    city = pages["nara-city"]
    step = city.context["panels"][0]["next_step"]
    assert step.title == "施設台帳を取り込みましょう" and "/import/" in step.links[0][1]
    assert "まだどの群にも参加していません" in city.text and "/guide/start/?lg=292010" in city.html
    for name in ("nobody", "admin", "nara-city", "mitsue", "consultant"):
        assert not _words(pages[name].text), (name, _words(pages[name].text))


@pytest.mark.django_db
def test_a_consultant_sees_each_membership(pages: dict[str, Any]) -> None:
    page = pages["consultant"]
    assert [p["muni"].name for p in page.context["panels"]] == ["大阪市", "宇陀市"]
    assert "所属している団体" in page.text
    # the same 宇陀市 figures as 宇陀市's own staff see
    assert _figure(page, UDA, "backlog").count == _figure(pages["uda"], UDA, "backlog").count


@pytest.mark.django_db
def test_no_ledger_figures_leak(pages: dict[str, Any]) -> None:
    """曽爾村's ledger figures reach its prefecture and its group partners, never a municipality outside."""
    soni = next(r for r in pages["nara"].context["panels"][0]["ledger_rows"] if r["name"] == "曽爾村")
    assert soni["backlog"] is not None
    city = pages["nara-city"]
    assert "曽爾村" not in city.text
    # 奈良市 sees no ledger figure of anyone but itself (it has none): no count in its figure tiles
    panel = city.context["panels"][0]
    assert all(f.count is None for f in panel["figures"])
    # 御杖村 (invited, not yet a partner) is a village like 曽爾村 and 東吉野村, which have ledgers: its peer
    # position counts only the ledgers its staff may see (its own), so theirs shape nothing on its page
    for f in pages["mitsue"].context["panels"][0]["figures"]:
        assert f.count is not None and "値が分かるのは1団体" in f.peers, f
