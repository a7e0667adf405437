"""The front door as a visitor sees it (#13): the six questions, the concept, municipality search and the
public カルテ — public statistics for everyone, ledger figures only where the municipality publishes them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import resolve

from gunmane.web.access import ANONYMOUS, url_rule
from gunmane.web.registry.models import Municipality
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

UDA = "292125"


def _walled(html: str) -> list[str]:
    """The links of a page that would send a visitor to the login page."""
    out = []
    for href in re.findall(r'href="(/[^"#]*)"', html):
        path = href.split("?")[0]
        if path.startswith("/static/"):
            continue
        rule = url_rule(resolve(path).view_name)
        if rule is None or rule.get("GET") not in ANONYMOUS:
            out.append(href)
    return out


def _hrefs(html: str, container_id: str) -> list[str]:
    block = html.split(f'id="{container_id}"', 1)[1].split("</li>", 1)[0]
    return re.findall(r'href="(/[^"]*)"', block)


def test_home_answers_the_six_questions_with_links_a_visitor_can_open(client: Client, refdata) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    questions = ["全国や自分のまちはどういう状態？", "「群マネ」ってなに？", "「群マネ」の具体例はある？",
                 "具体的な一歩をどう踏み出せばよい？", "「群マネ」を進めるために何を決める？",
                 "「群マネ」の素地はどのように作る？"]
    for q in questions:
        assert q in html
    assert 'action="/guide/search/"' in html  # the search box for 状態 on the page itself
    # the figure of 状態 is the national public statistic, with its source
    assert re.search(r"guide-figure-value__number\">\d+\.\d<", html)
    assert "出典：道路メンテナンス年報" in html
    assert "19<span" in html  # the cases in the catalogue (gunmane/data/groups/cases.json)
    assert "5<span" in html and "導入検討 → 実施方針検討" in html  # the standard process
    links: list[str] = []
    for card in ("q-state", "q-concept", "q-cases", "q-process", "q-decisions", "q-foundation"):
        found = _hrefs(html, card)
        assert found, card
        links += found
    expected = {"analysis:national", "guide:concept", "guide:cases", "guide:process", "guide:start",
                "guide:decisions", "guide:foundation"}
    assert {resolve(h.split("?")[0]).view_name for h in links} >= expected
    assert _walled(html) == []
    for href in links:
        rule = url_rule(resolve(href.split("?")[0]).view_name)
        assert rule is not None and rule["GET"] in ANONYMOUS, href
        assert client.get(href).status_code == 200, href
    assert client.get("/guide/").status_code == 200


def test_concept_page_draws_its_diagrams_accessibly(client: Client, refdata) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/guide/concept/").content.decode()
    svgs = re.findall(r"<svg[^>]*>", html)
    assert len(svgs) >= 6
    for tag in svgs:
        assert 'role="img"' in tag and "aria-labelledby" in tag
        assert "style=" not in tag
    assert "<title" in html and "style=" not in html.split("<main", 1)[1]
    for word in ("広域", "多分野", "発注者の束", "受注者の束", "技術者の束", "契約年数", "プロセス", "データ", "性能規定"):
        assert word in html


@pytest.mark.parametrize("query", ["宇陀", "奈良県宇陀市", "宇陀市", "ならけんうだ"])
def test_search_with_one_match_opens_the_karte(client: Client, refdata, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/guide/search/", {"q": query})
    assert response.status_code == 302
    assert response["Location"] == f"/karte/{UDA}/"


@pytest.mark.parametrize("query", ["うだ", "ウダ", "ｳﾀﾞ", "う だ"])
def test_search_by_reading_lists_uda_first(client: Client, refdata, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/guide/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    rows = re.findall(r'<th scope="row"><a href="(/karte/\d+/)">', html)
    assert rows[0] == f"/karte/{UDA}/"
    assert "奈良県" in html and "26,694 人" in html


def test_search_json_and_the_empty_cases(client: Client, refdata) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/guide/search/", {"q": "うだ", "format": "json"}).json()
    assert data["results"][0] == {"lg_code": UDA, "name": "宇陀市", "label": "奈良県宇陀市", "prefecture": "奈良県",
                                  "kind": "市", "population": 26694, "url": f"/karte/{UDA}/"}
    nara = client.get("/guide/search/", {"q": "奈良県", "format": "json"}).json()
    assert nara["total"] == 40  # the prefecture and its 39 municipalities
    assert nara["results"][0]["lg_code"] == "290009"
    assert client.get("/guide/search/", {"q": "ｘｙｚ", "format": "json"}).json() == {
        "query": "ｘｙｚ", "total": 0, "results": []}
    none = client.get("/guide/search/", {"q": "ぬぬぬぬ"}).content.decode()
    assert 'id="search-none"' in none and "ひらがなのよみ" in none
    empty = client.get("/guide/search/").content.decode()
    assert 'id="search-help"' in empty
    wards = client.get("/guide/search/", {"q": "東京都中央区"})
    assert wards["Location"] == "/karte/131024/"  # special wards are municipalities too


def test_public_karte_shows_public_statistics_and_ledger_figures_only_when_published(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/karte/{UDA}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="ind-bridges_iii_iv_share"' in html and 'id="ind-population"' in html
    assert 'id="ind-age_50plus_share"' not in html and 'id="ind-backlog"' not in html
    assert 'id="ledger-hidden"' in html and 'id="sign-in-note"' in html
    assert 'id="chart-fy_trend"' in html and 'id="chart-grade_distribution"' not in html  # no empty ledger chart
    assert _walled(html) == []
    data = client.get(f"/karte/{UDA}/", {"format": "json"}).json()
    values = {i["id"]: i["value"] for i in data["indicators"]}
    assert values["bridges_inspected"] == 525 and values["facilities"] is None
    pdf = client.get(f"/karte/{UDA}/", {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF")
    assert client.get(f"/karte/{UDA}/", {"format": "xlsx"}).status_code == 200
    pref = client.get("/karte/pref/29/").content.decode()
    assert "宇陀市" in pref and "台帳の施設数" not in pref and _walled(pref) == []
    national = client.get("/karte/").content.decode()
    assert 'id="ind-bridges_iii_iv_share"' in national and 'id="ind-age_50plus_share"' not in national
    assert '<option value="facilities"' not in national  # no map of figures all unknown to a visitor
    assert _walled(national) == []

    Municipality.objects.filter(lg_code=UDA).update(publishes_ledger_figures=True)
    published = client.get(f"/karte/{UDA}/").content.decode()
    assert 'id="ind-age_50plus_share"' in published and 'id="ledger-hidden"' not in published
    assert 'id="chart-grade_distribution"' in published
    assert client.get(f"/karte/{UDA}/", {"format": "json"}).json()["has_ledger"] is True
    assert "台帳の施設数" in client.get("/karte/pref/29/").content.decode()
    assert '<option value="facilities"' in client.get("/karte/").content.decode()


def test_signed_in_home_is_not_the_public_page(refdata, users) -> None:  # type: ignore[no-untyped-def]
    html = login_client("uda").get("/").content.decode()
    assert 'id="q-state"' not in html
    # the guide stays reachable signed in, as the same page
    assert 'id="q-state"' in login_client("uda").get("/guide/").content.decode()
