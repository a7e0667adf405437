"""The group workspace in a real browser: create a group from the demo region, tick check items with
evidence, generate and download the 実施方針 (Word) and the 協定書 (PDF)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from gunmane.web.demo import DEMO_GROUP
from gunmane.web.groups.models import ChecklistEvent, Group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_group_tick_items_and_download_documents(page: Page, login: Callable[..., None], demo,  # type: ignore[no-untyped-def]
                                                         tmp_path) -> None:
    login("uda")
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="群").click()
    expect(page.locator("#group-list")).to_contain_text(DEMO_GROUP)
    page.get_by_role("link", name="新しい群をつくる").click()
    page.get_by_label("群の名称").fill("宇陀・曽爾 橋梁点検の群")
    page.get_by_label("幹事団体").select_option(label="宇陀市")
    page.get_by_label("曽爾村").check()
    page.get_by_label("都道府県が支援する（垂直連携）").check()
    page.get_by_label("広域連携（水平連携）").check()
    page.get_by_role("button", name="つくる").click()
    expect(page.locator("h1")).to_contain_text("宇陀・曽爾 橋梁点検の群の設定")
    page.get_by_label("道路").check()
    page.get_by_label("対象区域").fill("宇陀市・曽爾村の市村道")
    page.get_by_label("連携の仕組み").select_option(label="事務の代替執行")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#scope")).to_contain_text("事務の代替執行")
    new = Group.objects.get(name="宇陀・曽爾 橋梁点検の群")
    assert set(new.members.values_list("municipality__lg_code", flat=True)) == {"292125", "293857", "290009"}

    # the demo group's checklist: tick an item with its evidence
    page.goto("/groups/")
    page.get_by_role("link", name=DEMO_GROUP).click()
    page.get_by_role("link", name="進め方（チェックリスト）").click()
    row = page.locator("#stage-introduction tbody tr").nth(2)
    row.get_by_role("link", name="更新").click()
    page.get_by_label("状態").select_option(label="完了")
    page.get_by_label("根拠（リンク）").fill("/karte/292125/")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#stage-introduction tbody tr").nth(2)).to_contain_text("完了")
    assert ChecklistEvent.objects.filter(user__username="uda").exists()
    page.screenshot(path=str(tmp_path / "process.png"), full_page=True)

    # documents: 実施方針 as Word, 協定書 as PDF
    page.get_by_role("link", name="文書", exact=True).click()
    page.get_by_label("文書").select_option(value="policy")
    page.get_by_label("形式").select_option(value="docx")
    page.get_by_role("button", name="つくる").click()
    expect(page.locator("#documents")).to_contain_text("実施方針")
    with page.expect_download() as info:
        page.locator("#documents").get_by_role("link", name="ダウンロード").first.click()
    policy = info.value
    assert policy.suggested_filename.endswith("実施方針_第1版.docx")
    doc = Document(io.BytesIO(Path(policy.path()).read_bytes()))
    assert any("宇陀市" in c.text for t in doc.tables for row in t.rows for c in row.cells)
    page.get_by_label("文書").select_option(value="agreement")
    page.get_by_label("形式").select_option(value="pdf")
    page.get_by_role("button", name="つくる").click()
    with page.expect_download() as info:
        page.locator("#documents tbody tr", has_text="協定書").get_by_role("link", name="ダウンロード").click()
    agreement = info.value
    assert agreement.suggested_filename.endswith("協定書（案）_第1版.pdf")
    assert Path(agreement.path()).read_bytes().startswith(b"%PDF")


def test_outsider_is_refused(page: Page, login: Callable[..., None], demo) -> None:  # type: ignore[no-untyped-def]
    login("osaka", "pw-osaka-123")
    group = Group.objects.get(name=DEMO_GROUP)
    response = page.goto(f"/groups/{group.pk}/")
    assert response is not None and response.status == 403


def test_invite_accept_and_leave_as_the_two_municipalities(page: Page, login: Callable[..., None], demo,  # type: ignore[no-untyped-def]
                                                           tmp_path) -> None:
    """宇陀市 invites 曽爾村; 曽爾村's own editor accepts (after confirming) and later leaves."""
    login("uda")
    page.goto("/groups/new/")
    page.get_by_label("群の名称").fill("宇陀・曽爾 同意の群")
    page.get_by_label("幹事団体").select_option(label="宇陀市")
    page.get_by_role("button", name="つくる").click()
    group = Group.objects.get(name="宇陀・曽爾 同意の群")
    page.goto(f"/groups/{group.pk}/")
    invite = page.locator("#invite-form")
    invite.get_by_label("招待する団体").select_option(label="曽爾村")
    invite.get_by_role("button", name="招待する").click()
    expect(page.locator("#other-members")).to_contain_text("曽爾村・構成団体：招待中")
    page.screenshot(path=str(tmp_path / "invited.png"), full_page=True)
    page.context.clear_cookies()

    login("soni")
    page.goto("/groups/")
    page.locator("#invitations").get_by_role("link").first.click()
    expect(page.locator("#invitation")).to_contain_text("曽爾村の施設台帳")
    page.get_by_role("button", name="参加を承諾する").click()
    expect(page.locator("h1")).to_contain_text("宇陀・曽爾 同意の群")
    expect(page.locator("#members")).to_contain_text("曽爾村")
    assert sorted(group.member_codes()) == ["292125", "293857"]
    page.once("dialog", lambda d: d.accept())  # 「…脱退しますか？」
    page.locator("#members tr", has_text="曽爾村").get_by_role("button", name="脱退する").click()
    expect(page.locator("#group-list")).not_to_contain_text("宇陀・曽爾 同意の群")
    assert group.member_codes() == ["292125"]
