"""The issue's acceptance flow in a real browser: log in, upload a messy CP932 ledger, read the
errors, download them as Excel, upload the corrected file and find the bridge in the ledger.

Runs against pytest-django's live server (transactional database) in Debian's Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.fixtures import MESSY_BRIDGES_CSV, MESSY_ERRORS, corrected_bridges_csv, write_cp932

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UDA, SONI = "292125", "293857"
DOWNLOAD_LINK = "エラー・警告の一覧を Excel でダウンロード"


def table_rows(page: Page, selector: str) -> list[list[str]]:
    """The body cells of a table, as the user reads them."""
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.locator(f"{selector} tbody tr").all()]


def upload(page: Page, path: Path) -> None:
    page.locator("#import-form input[type=file]").set_input_files(path)
    page.get_by_role("button", name="取り込む").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("#import-status .alert")).to_be_visible()


def test_upload_messy_then_corrected_ledger(page: Page, login: Callable[..., None], users,  # type: ignore[no-untyped-def]
                                            tmp_path: Path) -> None:
    login("uda")
    # 宇陀市 → 取り込み, through the municipality list as a user would.
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="自治体一覧").click()
    page.get_by_label("団体名・よみ・団体コード").fill("宇陀")
    page.get_by_role("button", name="絞り込む").click()
    page.get_by_role("link", name="宇陀市", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/municipalities/{UDA}/$"))
    page.get_by_role("navigation", name="宇陀市のメニュー").get_by_role("link", name="取り込み").click()
    expect(page).to_have_url(re.compile(rf"/municipalities/{UDA}/import/$"))

    # The messy ledger: nothing is registered, every error is listed with row, column and value.
    upload(page, write_cp932(tmp_path / "橋梁台帳.csv", MESSY_BRIDGES_CSV))
    alert = page.locator("#import-status .alert")
    expect(alert).to_have_class(re.compile(r"alert--error"))
    expect(alert).to_contain_text("1行も登録していません")
    rows = table_rows(page, "#error-table")
    assert [(int(r[0]), r[1], r[2]) for r in rows] == [(row, col, value) for row, col, value, _ in MESSY_ERRORS]
    assert all(r[3] for r in rows), "every error explains how to fix it"
    warnings = table_rows(page, "#warning-table")
    assert [(r[0], r[1], r[2]) for r in warnings] == [("6", "架設年度", "平成32年")]
    page.screenshot(path=tmp_path / "error-page.png", full_page=True)

    # The same report as an Excel download.
    with page.expect_download() as info:
        page.get_by_role("link", name=DOWNLOAD_LINK).click()
    download = info.value
    assert download.suggested_filename.endswith("_errors.xlsx")
    report = tmp_path / download.suggested_filename
    download.save_as(report)
    wb = load_workbook(report)
    assert [tuple(c.value for c in row[:4]) for row in wb["エラー"].iter_rows(min_row=3)] == MESSY_ERRORS
    assert [tuple(c.value for c in row[:3]) for row in wb["警告"].iter_rows(min_row=3)] == [(6, "架設年度", "平成32年")]

    # The corrected file, through the result page's own link back to the form.
    page.get_by_role("link", name="修正したファイルを取り込む").click()
    upload(page, write_cp932(tmp_path / "橋梁台帳_修正.csv", corrected_bridges_csv()))
    alert = page.locator("#import-status .alert")
    expect(alert).to_have_class(re.compile(r"alert--success"))
    expect(alert).to_contain_text("取り込みました")
    expect(alert).to_contain_text("新規 9 件")
    expect(page.locator("#error-table")).to_have_count(0)

    # The ledger: search, find the bridge, open it.
    page.get_by_role("link", name="施設台帳を見る").click()
    expect(page).to_have_url(re.compile(rf"/municipalities/{UDA}/facilities/$"))
    expect(page.locator("#facility-table tbody tr")).to_have_count(9)
    page.get_by_label("施設名・施設ID・路線名").fill("大宇陀")
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile(r"[?&]q="))
    table = page.locator("#facility-table")
    row = table.locator("tbody tr").filter(has_text="大宇陀橋")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("BR-001")
    expect(row.locator("td").nth(4)).to_have_text("1970")
    page.screenshot(path=tmp_path / "ledger-page.png", full_page=True)

    row.get_by_role("link", name="BR-001").click()
    expect(page).to_have_url(re.compile(rf"/municipalities/{UDA}/facilities/BR-001/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("大宇陀橋")
    built = page.locator("dt", has_text="建設年度").locator("xpath=following-sibling::dd[1]")
    expect(built).to_contain_text("1970")
    expect(built).to_contain_text("昭和45年")


def test_editor_cannot_upload_for_another_municipality(page: Page, login: Callable[..., None],  # type: ignore[no-untyped-def]
                                                       users, live_server) -> None:
    login("uda")
    page.goto(f"/municipalities/{SONI}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("曽爾村")
    expect(page.get_by_role("link", name="取り込み")).to_have_count(0)
    expect(page.locator(f'a[href$="/municipalities/{SONI}/import/"]')).to_have_count(0)

    response = page.goto(f"/municipalities/{SONI}/import/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_contain_text("権限がありません")
    expect(page.locator("#import-form")).to_have_count(0)

    # Their own municipality still offers the upload.
    page.goto(f"/municipalities/{UDA}/")
    expect(page.get_by_role("link", name="取り込み", exact=True)).to_have_count(1)


def test_ledger_requires_login(page: Page) -> None:
    # No reference data needed: the login check runs before the view (saves reloading it, ~3 s).
    page.goto(f"/municipalities/{UDA}/facilities/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    expect(page.get_by_label("パスワード")).to_be_visible()
    expect(page.locator("#facility-table")).to_have_count(0)
