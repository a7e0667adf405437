"""アンケート in a real browser: 宇陀市's editor builds and sends a contractor survey; two companies
answer through their own links in fresh browser contexts (no login) — one saves a draft, comes back
and submits; the editor then sees the aggregated results."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("GUNMANE_SCREENSHOTS", "/tmp/gunmane-survey-shots"))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def q(page: Page, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#q-{key}")


def fill_required(page: Page, *, interest: str, scale: str) -> None:
    """Everything required of the contractor template except 問3 (interest), which the caller sets."""
    q(page, "current_works").get_by_label("小規模な補修・修繕").check()
    q(page, "awareness").get_by_label("名前は聞いたことがある").check()
    q(page, "interest").get_by_label(interest, exact=True).check()
    for row in page.locator("#q-appeal tbody th").all_inner_texts():
        page.get_by_label(f"{row}：{scale}", exact=True).check()
    q(page, "capable_works").get_by_label("定期点検").check()  # the group's own work (its 対象業務) is asked
    q(page, "capable_sectors").get_by_label("道路").check()
    q(page, "area").get_by_label("宇陀市").check()
    page.locator("input[name=q_engineers]").fill("4")
    page.locator("input[name=q_workers]").fill("9")
    q(page, "concerns").get_by_label("書類作成・報告などの事務負担の増加").check()


def test_build_send_answer_and_aggregate_a_contractor_survey(page: Page, browser: Browser, login: Callable[..., None],
                                                              demo, live_server) -> None:  # type: ignore[no-untyped-def]
    page.on("dialog", lambda d: d.accept())
    login("uda")
    page.goto("/surveys/")
    expect(page.locator("h1")).to_have_text("アンケート調査")
    page.get_by_role("link", name="この群のアンケートをつくる").click()
    expect(page.get_by_label("受注者向け 市場調査（サウンディング）")).to_be_checked()
    expect(page.locator("input[name=sectors][value=road]")).to_be_checked()  # from the members' ledger
    page.locator("input[name=work_kinds][value=snow]").check()
    shot(page, "01_create")
    page.get_by_role("button", name="ひな形から作成する").click()
    expect(page.locator(".alert--success")).to_contain_text("作成しました")
    expect(page.locator("#q-area")).to_contain_text("東吉野村")
    shot(page, "02_detail")

    # add a question of our own: free text, shown only to those interested under conditions
    page.select_option("#new-kind", "text")
    page.get_by_role("button", name="設問を追加").click()
    page.get_by_label("設問文").fill("参加の条件があればお書きください。")
    condition = page.get_by_label("表示条件（この設問の回答によって表示する）")
    condition.select_option(condition.locator("option", has_text="問3 ").get_attribute("value"))
    page.get_by_label("表示条件の回答（1行に1つ）").fill("条件によっては参加を検討する")
    expect(page.get_by_label("選択肢（1行に1つ）")).to_be_hidden()  # the editor shows what the kind needs
    shot(page, "02b_question")
    page.get_by_role("button", name="保存する").click()
    expect(page.locator(".survey-question").last).to_contain_text("参加の条件があればお書きください。")

    page.get_by_role("link", name="回答者とリンク").click()
    page.get_by_label("貼り付け（1行に1人）").fill(
        "宇陀建設株式会社\t土木工事業\t宇陀市\t30〜99人\n曽爾土木有限会社\t土木工事業\t曽爾村\t10〜29人\n"
        "御杖造園\t造園工事業\t御杖村\t1〜9人")
    page.get_by_role("button", name="登録してリンクをつくる").click()
    expect(page.locator(".alert--success")).to_contain_text("3人登録しました")
    expect(page.locator("#recipient-table tbody tr")).to_have_count(3)
    shot(page, "03_recipients")
    links = {name: page.get_by_label(f"{name}の回答用リンク").input_value()
             for name in ("宇陀建設株式会社", "曽爾土木有限会社")}
    with page.expect_download() as info:
        page.get_by_role("link", name="リンク一覧を Excel でダウンロード").click()
    assert info.value.suggested_filename.endswith("_回答用リンク.xlsx")
    page.get_by_role("link", name="概要・設問").click()
    page.get_by_role("button", name="公開して回答を受け付ける").click()
    expect(page.locator(".page-header .badge")).to_have_text("回答受付中")

    # company 1, a fresh context without login: draft, leave, come back, submit
    ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    r = ctx.new_page()
    r.goto(links["宇陀建設株式会社"])
    expect(r.locator("h1")).to_contain_text("意向調査")
    expect(r.locator(".site-nav")).to_have_count(0)
    expect(q(r, "join_form")).to_be_hidden()
    q(r, "interest").get_by_label("参加したい", exact=True).check()
    expect(q(r, "join_form")).to_be_visible()  # the condition, in the browser
    q(r, "join_form").get_by_label("共同企業体（JV・地域維持型JV）を組む").check()
    r.get_by_role("button", name="一時保存する").click()
    expect(r.locator(".alert--success")).to_contain_text("一時保存しました")
    ctx.close()

    ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    r = ctx.new_page()
    r.goto(links["宇陀建設株式会社"])
    expect(q(r, "interest").get_by_label("参加したい", exact=True)).to_be_checked()
    expect(q(r, "join_form").get_by_label("共同企業体（JV・地域維持型JV）を組む")).to_be_checked()
    r.get_by_role("button", name="回答を送信する").click()  # incomplete: the server says what is missing
    expect(r.locator("#form-errors")).to_contain_text("回答に不足や誤りがあります")
    expect(q(r, "engineers")).to_contain_text("この設問は回答が必要です。")
    shot(r, "04_respond_errors")
    fill_required(r, interest="参加したい", scale="4 やや感じる")
    q(r, "join_form").get_by_label("共同企業体（JV・地域維持型JV）を組む").check()
    r.get_by_role("button", name="回答を送信する").click()
    expect(r.locator("#respond-done")).to_contain_text("回答を受け付けました")
    expect(r.locator("#own-answers")).to_contain_text("共同企業体（JV・地域維持型JV）を組む")
    shot(r, "05_respond_done")
    ctx.close()

    # company 2 answers under conditions, with the self-made conditional question
    ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    r = ctx.new_page()
    r.goto(links["曽爾土木有限会社"])
    fill_required(r, interest="条件によっては参加を検討する", scale="2 あまり感じない")
    q(r, "join_form").get_by_label("事業協同組合として受注する").check()
    r.locator("textarea[name=q_q21]").fill("除雪の時期と重ならない工程であれば参加したい。")
    shot(r, "06_respond_form")
    r.get_by_role("button", name="回答を送信する").click()
    expect(r.locator("#respond-done")).to_be_visible()
    expect(r.locator("body")).not_to_contain_text("宇陀建設株式会社")
    ctx.close()

    # the group member sees the aggregate
    page.get_by_role("link", name="集計結果").click()
    expect(page.locator("#n-submitted")).to_have_text("2")
    interest = page.locator("#result-interest")
    expect(interest.locator("canvas")).to_be_visible()
    expect(interest.locator("tbody tr").first).to_contain_text("参加したい")
    expect(interest.locator("tbody tr").first).to_contain_text("1")
    expect(page.locator("#result-q21")).to_contain_text("除雪の時期と重ならない工程であれば参加したい。")
    page.select_option("#tab-q", "interest")
    page.select_option("#tab-by", label="所在地")
    page.get_by_role("button", name="集計する").click()
    expect(page.locator("#crosstab-table tbody tr")).to_have_count(2)
    expect(page.locator("#crosstab-table tfoot")).to_contain_text("2")
    page.wait_for_function("document.querySelectorAll('canvas[data-chart]').length > 0 && "
                           "Chart.getChart(document.querySelector('canvas[data-chart=interest]')) !== undefined")
    shot(page, "07_results")
    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    assert info.value.suggested_filename.endswith("_回答.xlsx")
    page.goto("/surveys/")
    expect(page.locator("table")).to_contain_text("回答受付中")
    shot(page, "08_index")
