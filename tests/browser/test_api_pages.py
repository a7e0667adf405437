"""The user's page and the API documentation page in a real browser: a token made and shown once, then used
with the API; Swagger UI (vendored) draws the schema under the strict Content-Security-Policy."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.browser.test_csp import watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_token_made_on_the_users_page_and_the_docs_page(page: Page, login: Callable[..., None], users) -> None:  # type: ignore[no-untyped-def]
    problems = watch(page)
    login("uda")
    page.goto("/accounts/")
    expect(page.locator("h1")).to_have_text("利用者ページ")
    page.fill("#token-name", "県の集計システム")
    page.get_by_role("button", name="トークンを作る").click()
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("gm-")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/groups/")
    assert response.status_code == 200 and json.loads(response.content)["count"] == 0
    page.goto("/accounts/")  # shown once: the list has the prefix, never the secret
    expect(page.locator("#token-table")).to_contain_text("県の集計システム")
    assert secret not in page.content()

    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator("#swagger-ui")).to_contain_text("/api/municipalities/{lg_code}/facilities/")
    assert not problems, "\n".join(problems)
