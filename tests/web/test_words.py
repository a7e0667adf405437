"""No internal word reaches a user: every page for every role, and every download (issue #12 §3).

The demo region is loaded once for the module (its group, effects scenario, lots, a survey with a respondent,
and every group document in Word and PDF). Each role — signed out, a respondent with a survey link, 宇陀市's
editor (the group's lead), 奈良県's viewer (the supporting prefecture), the administrator and an editor of
大阪市 outside the group — starts from every URL of the URL table (gunmane.web.access.URL_RULES) filled
with realistic demo objects, and follows every link of the site it is shown (downloads included: Excel,
CSV, Word, PDF). What a person reads in each response (tests/words.py) is checked against the denylist.

KNOWN_ELSEWHERE lists words found in pages and files owned by other work in progress (group documents and the
lifecycle pages); each entry says who removes it. Entries that no longer match anything fail the last test,
so the list only shrinks.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from gunmane.web.access import url_rule
from tests.conftest import ensure_reference_data
from tests.web.test_authorization import _walk
from tests.words import Finding, internal_words, readable_text, summarize

#: the crawl runs in a module fixture; the mark tells pytest-django to create the test database for it
pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "respondent", "uda", "nara", "admin", "osaka")
MEMBERS = ("292125", "293857", "293865", "294535")  # 宇陀市, 曽爾村, 御杖村, 東吉野村
#: query parameters that make a different response of the same page (a download, a table, a tab)
VARIANT_KEYS = {"format", "fmt", "download", "table", "sensitivity", "kind", "merge_iv", "mode", "strategy", "all",
                "run"}
#: how many different paths of one URL name a crawl visits beyond its seeds (facility pages are alike)
PER_NAME = 1
#: pages computed from the group's or municipality's data alone, the same words for everyone who may see them
#: (the fits, plans and the effects take seconds each): read once, by the first role that reaches them
ONCE = ("analysis:deterioration", "analysis:lcc", "analysis:plan", "groups:effects_result", "groups:effects_lots",
        "groups:lot_annex")
#: URLs not checked, each with its reason
SKIP_NAMES = {
    "logout",  # ends the role's session
    # the OpenAPI schema is the API's contract for programs: its field names are the JSON keys (snake_case, as the
    # CLI's JSON) and its descriptions name the CLI commands whose JSON the API shares; people read it through the
    # documentation page /api/docs/, which the crawl checks
    "api:schema",
}
SKIP_NAMESPACES = ("admin:",)  # Django's admin site: the administrator's tool, Django's own words and field names

#: the municipalities of the demo world: a bare 6-digit number counts as a 団体コード only for these (a population
#: or an amount of six digits is not a code)
DEMO_CODES = ("292125", "293857", "293865", "294535", "290009", "271004")


def _indicator_and_series_ids() -> set[str]:
    from gunmane.engine.indicators.definitions import INDICATORS

    ids = {d.id for d in INDICATORS}
    return ids | {"age_distribution", "ageing_projection", "backlog_ageing", "fy_trend", "grade_distribution",
                  "peer_percentiles", "sector_stock"}


#: Allowed exceptions, each with its reason: (URL name or "name.kind" of a download, rule, matched text or "*").
ALLOWED: dict[tuple[str, str, str], str] = {
    # the public dataset the reference statistics come from is named by its publisher's name for it
    ("*", "snake_case", "local_gov_vis"): "出典の名前（GitHub の公開データ Ina299/local_gov_vis）",
    # the ledger file is the re-importable ledger: its 団体コード column (under that header) is data, and the
    # template's sample row and the English column names it lists are what the importer accepts
    ("registry:export.csv", "bare-code", "*"): "台帳ファイルの 団体コード 列（再取込のためのデータ）",
    ("registry:export.xlsx", "bare-code", "*"): "台帳ファイルの 団体コード 列（再取込のためのデータ）",
    ("registry:template.xlsx", "bare-code", "*"): "取込テンプレートの記入例の 団体コード 列",
    ("registry:template.xlsx", "snake_case", "*"): "取込テンプレート：読み取れる英語の列名の一覧（別名）",
    # the error list's コード column (the rule's id, beside its Japanese 内容); its layout is pinned by
    # tests/io/test_formula_injection.py and tests/web/test_views.py
    ("registry:import_issues_xlsx.xlsx", "snake_case", "*"): "取込エラー一覧の コード 列",
    # the effects scenario file is a program input (the keys are the file format of `gunmane effects`)
    ("groups:effects_result.toml", "*", "*"): "シナリオファイル（TOML）はプログラムの入力",
    # the 設問 sheet of the survey results maps each question to its キー, the column name of the responses CSV
    # (tests/io/test_survey_io.py pins the layout)
    ("surveys:results_export.xlsx", "snake_case", "*"): "集計表の 設問 シート：回答 CSV の列名（キー）との対応",
}
#: the カルテ's Excel and CSV carry each indicator's and series' id in a column headed 指標ID/系列ID, next to its
#: Japanese label: the ids are a documented public contract (docs/indicators.md), pinned by tests/io
KARTE_FILES = ("analysis:municipality", "analysis:prefecture", "analysis:group", "analysis:national",
               "analysis:series_csv")

# Words known to remain in a page or file while the work that removes them is under way: (name, rule, excerpt
# substring) → who removes the entry. test_known_elsewhere_entries_still_match fails on an entry that matches
# nothing, so the list only shrinks. Empty since issue #12 landed.
KNOWN_ELSEWHERE: dict[tuple[str, str, str], str] = {}
#: the カルテ pages and files (the "*karte" entries above stand for each of them)
KARTE_NAMES = ("analysis:municipality", "analysis:prefecture", "analysis:group", "analysis:national")


@dataclass
class Crawl:
    pages: int = 0
    files: int = 0
    findings: list[tuple[str, str, Finding]] = field(default_factory=list)  # (where, name, finding)
    errors: list[str] = field(default_factory=list)
    timings: list[tuple[str, str, float]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)


def _names_by_code() -> dict[str, str]:
    from gunmane.web.registry.models import Municipality

    return dict(Municipality.objects.filter(lg_code__in=DEMO_CODES).values_list("lg_code", "name"))


def _world() -> dict[str, Any]:
    """The demo group with everything a page can show, and the path values to visit it with."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from gunmane.web.accounts.models import Membership, Role
    from gunmane.web.demo import DEMO_GROUP, create_demo_group, create_demo_users, load_demo_ledger
    from gunmane.web.groups.models import EffectScenario, Group
    from gunmane.web.groups.views import generate
    from gunmane.web.registry import frames
    from gunmane.web.registry.models import Facility, ImportKind, ImportRecord, ImportStatus, Municipality
    from gunmane.web.surveys import services
    from gunmane.web.surveys.models import SurveyStatus
    from gunmane.web.surveys.services import RecipientRow

    frames.clear_cache()
    create_demo_users()
    load_demo_ledger()
    create_demo_group()
    group = Group.objects.get(name=DEMO_GROUP)
    osaka = get_user_model().objects.create_user("osaka", password="pw-osaka-123")
    Membership.objects.create(user=osaka, municipality=Municipality.objects.get(lg_code="271004"), role=Role.EDITOR)
    scenario = EffectScenario.objects.filter(group=group).order_by("pk").first()
    assert scenario is not None
    for kind in ("policy", "agreement", "spec"):
        for fmt in ("docx", "pdf"):
            generate(group, kind, fmt, "L1" if kind == "spec" else "")
    closes = timezone.localdate() + timedelta(days=14)
    survey = services.create_from_template(group, template_key="contractor", sectors=["road"],
                                           works=["inspection"], closes_on=closes)
    recipient = services.add_recipients(survey, [RecipientRow(line=1, name="宇陀建設", attributes=())], closes)[0]
    survey.status = SurveyStatus.OPEN
    survey.save(update_fields=["status"])
    bridge = Facility.objects.filter(manager__lg_code="292125").order_by("facility_id").first()
    assert bridge is not None
    # an upload of 宇陀市 with one row refused, as the import pages and the issues Excel show it
    record = ImportRecord(kind=ImportKind.FACILITIES, municipality=bridge.manager, original_name="宇陀市_橋梁台帳.csv",
                          status=ImportStatus.SUCCEEDED,
                          errors=[{"row": 7, "column": "架設年度", "value": "2031", "code": "future_year",
                                   "message": "架設年度 2031 が将来の年です（今年度までの年を入力してください）"}])
    record.file.save("uda.csv", ContentFile("施設番号,橋梁名\nBR-001,大宇陀橋\n".encode()), save=False)
    record.save()
    doc = group.documents.order_by("pk").first()
    item = group.checklist.order_by("pk").first()
    members = {m.municipality.lg_code: m.pk for m in group.members.all()}
    question = survey.questions.order_by("pk").first()
    return {
        "token": recipient.token, "documents": list(group.documents.values_list("pk", flat=True)),
        # path parameter → values to visit (several where the parameter means several kinds of page)
        "values": {
            "lg_code": list(MEMBERS) + ["290009"], "facility_id": [bridge.facility_id], "code": ["29"],
            "kind": ["facilities", "inspections", "measures"], "spec": [f"group-{group.pk}", "292125"],
            "lot": ["L1"], "token": [recipient.token], "fmt": ["xlsx", "csv"],
        },
        "by_prefix": {
            "registry:": {"pk": record.pk},
            "groups:": {"pk": group.pk, "sid": scenario.pk, "doc_pk": doc.pk if doc else 1,
                        "item_pk": item.pk if item else 1, "member_pk": members["293857"]},
            "analysis:": {"pk": group.pk},
            "surveys:": {"pk": survey.pk, "group_pk": group.pk, "qpk": question.pk if question else 1,
                         "rpk": recipient.pk},
        },
    }


def _seeds(world: dict[str, Any]) -> list[str]:
    """Every GET URL of the URL table, filled with the demo objects (every member's カルテ and ledger)."""
    out: list[str] = []
    for name, pattern in _walk(_resolver()):
        rule = url_rule(name)
        if not rule or "GET" not in rule or name in SKIP_NAMES or name.startswith(SKIP_NAMESPACES):
            continue
        fixed: dict[str, Any] = {}
        for prefix in sorted((p for p in world["by_prefix"] if name.startswith(p)), key=len):
            fixed.update(world["by_prefix"][prefix])
        variants: list[dict[str, Any]] = [{}]
        for key in pattern.pattern.regex.groupindex:
            options = [fixed[key]] if key in fixed else world["values"].get(key, ["1"])
            variants = [{**v, key: o} for v in variants for o in options]
        for kwargs in variants:
            try:
                out.append(reverse(name, kwargs=kwargs))
            except Exception:  # noqa: BLE001 — a value that does not fit this pattern (e.g. a kind of another URL)
                continue
    # every generated document (each kind in Word and PDF), and the lot design, which runs on a button (?run=1)
    lots = world["by_prefix"]["groups:"]
    out += [reverse("groups:document", kwargs={"pk": lots["pk"], "doc_pk": pk}) for pk in world["documents"]]
    out.append(reverse("groups:effects_lots", kwargs={"pk": lots["pk"], "sid": lots["sid"]}) + "?run=1")
    return out


def _resolver() -> Any:
    from django.urls import get_resolver

    return get_resolver()


def _client(role: str) -> Client:
    from django.contrib.auth import get_user_model

    c = Client()
    if role not in ("anonymous", "respondent"):
        c.force_login(get_user_model().objects.get(username=role))
    return c


_HREF = re.compile(r"""href=["']([^"'#]+)""")


def _links(html: str, base: str) -> Iterator[str]:
    for raw in _HREF.findall(html):
        url = raw.replace("&amp;", "&")
        if url.startswith("?"):
            url = urlsplit(base).path + url
        if url.startswith("/") and not url.startswith("//") and not url.startswith("/static/"):
            yield url


def _key(url: str) -> tuple[str, str, str]:
    """(URL name, path, the query parameters that change what is shown)."""
    parts = urlsplit(url)
    try:
        name = resolve(parts.path).view_name
    except Resolver404:
        return ("", parts.path, "")
    variant = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if k in VARIANT_KEYS))
    return (name, parts.path, variant)


def crawl_role(role: str, world: dict[str, Any], names: dict[str, str], result: Crawl,
               downloads_seen: set[tuple[str, str]]) -> None:
    """Visit every page the role reaches from the URL table, following the site's links. A download or a page
    variant (a URL with ?format=…) is read once, by the first role that reaches it: its words do not depend on
    who asks (what a role may see is tests/web/test_authorization.py's concern)."""
    client = _client(role)
    seeds = [s for s in _seeds(world) if (role == "respondent") == ("/r/" in s)]
    if role == "respondent":
        seeds = [reverse("surveys:respond", kwargs={"token": world["token"]})]
    queue: deque[str] = deque(seeds)
    seen: set[tuple[str, str]] = set()
    per_name: dict[tuple[str, str], int] = {}
    seed_set = set(seeds)
    while queue:
        url = queue.popleft()
        name, path, variant = _key(url)
        if not name or name in SKIP_NAMES or name.startswith(SKIP_NAMESPACES):
            continue
        rule = url_rule(name)
        if not rule or "GET" not in rule or (path, variant) in seen or (path, variant) in downloads_seen:
            continue
        if url not in seed_set:
            if per_name.get((name, variant), 0) >= PER_NAME:
                continue
            per_name[(name, variant)] = per_name.get((name, variant), 0) + 1
        seen.add((path, variant))
        started = time.perf_counter()
        response = client.get(url)
        result.timings.append((role, url, round(time.perf_counter() - started, 2)))
        if response.status_code == 200 and (variant or not path.endswith("/") or name in ONCE):
            downloads_seen.add((path, variant))
        if response.status_code >= 500:
            result.errors.append(f"GET {url} as {role}: {response.status_code}")
            continue
        if response.status_code != 200:
            continue
        body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
        kind, text = readable_text(body, response.get("Content-Type", ""))
        result.kinds.add(kind)
        if kind == "html":
            result.pages += 1
            for link in _links(body.decode("utf-8", "replace"), url):
                queue.append(link)
        elif kind != "json":
            result.files += 1
        where = f"{role} GET {url} ({kind})"
        for finding in internal_words(text, names):
            result.findings.append((where, name if kind == "html" else f"{name}.{kind}", finding))


@pytest.fixture(scope="module")
def crawl(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Crawl]:  # type: ignore[no-untyped-def]
    """One demo database for the whole module (loading the demo takes most of the time), rolled back after."""
    from django.db import transaction
    from django.test.utils import override_settings

    from gunmane.web.registry import frames

    media = tmp_path_factory.mktemp("words-media")
    with override_settings(MEDIA_ROOT=str(media),
                           PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]), \
            django_db_blocker.unblock(), transaction.atomic():
        ensure_reference_data()
        world = _world()
        names = _names_by_code()
        result = Crawl()
        downloads_seen: set[tuple[str, str]] = set()
        for role in ROLES:
            crawl_role(role, world, names, result, downloads_seen)
        if dump := os.environ.get("GUNMANE_WORDS_DUMP"):  # every finding as JSON, to read them all at once
            Path(dump).write_text(json.dumps([{"where": w, "name": n, **asdict(f)} for w, n, f in result.findings]
                                             + [{"timing": t} for t in result.timings], ensure_ascii=False))
        yield result
        transaction.set_rollback(True)
    frames.clear_cache()


def _allowed(name: str, finding: Finding, ids: set[str]) -> bool:
    for (a_name, a_word, a_text) in ALLOWED:
        if a_name in ("*", name) and a_word in ("*", finding.word) and a_text in ("*", finding.match):
            return True
    base, _, kind = name.partition(".")
    return (kind in ("xlsx", "csv") and base in KARTE_FILES and finding.word == "snake_case"
            and finding.match in ids)


def _entry_names(k_name: str) -> tuple[str, ...]:
    if k_name == "*karte":
        return tuple(f"{n}{kind}" for n in KARTE_NAMES for kind in ("", ".xlsx", ".pdf"))
    return (k_name,)


def _known_elsewhere(name: str, finding: Finding) -> bool:
    return any(name in _entry_names(k_name) and finding.word == k_word and k_text in finding.excerpt
               for (k_name, k_word, k_text) in KNOWN_ELSEWHERE)


def _unexplained(crawl: Crawl, files: bool) -> list[tuple[str, Finding]]:
    ids = _indicator_and_series_ids()
    out = []
    for where, name, finding in crawl.findings:
        is_file = "." in name.split(":")[-1]
        if is_file != files or _allowed(name, finding, ids) or _known_elsewhere(name, finding):
            continue
        out.append((where, finding))
    return out


def test_the_crawl_reaches_every_kind_of_page_and_file(crawl: Crawl) -> None:
    """The guard is only as good as its reach: every kind of file was read, and no page failed."""
    assert not crawl.errors, "\n".join(crawl.errors)
    assert crawl.pages > 100, crawl.pages
    assert {"xlsx", "csv", "docx", "pdf"} <= crawl.kinds, crawl.kinds


def test_no_internal_word_on_any_page(crawl: Crawl) -> None:
    bad = _unexplained(crawl, files=False)
    assert not bad, f"{len(bad)} 件:\n" + summarize(bad)


def test_no_internal_word_in_any_file(crawl: Crawl) -> None:
    bad = _unexplained(crawl, files=True)
    assert not bad, f"{len(bad)} 件:\n" + summarize(bad)


def test_known_elsewhere_entries_still_match(crawl: Crawl) -> None:
    """An entry that matches nothing has been fixed: remove it, so the list only shrinks."""
    stale = [k for k in KNOWN_ELSEWHERE if not any(name in _entry_names(k[0]) and f.word == k[1] and k[2] in f.excerpt
                                                   for _, name, f in crawl.findings)]
    assert not stale, f"KNOWN_ELSEWHERE の不要になった項目: {stale}"
