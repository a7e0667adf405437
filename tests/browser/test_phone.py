"""Every page on a phone (issue #13 §3): at 390 × 844 no page scrolls sideways, and the menu reaches every item.

For each role — signed out, 宇陀市's editor and viewer, 奈良県's viewer, an editor of 大阪市 outside the group, the
administrator, and a respondent with a survey link — the test opens every GET page of the URL table
(gunmane.web.access.URL_RULES, filled with the demo group's objects as tests/web/test_words.py fills them) in one
browser context at 390 × 844, and asserts `document.documentElement.scrollWidth <= 390` on every HTML page the role
may open (200, not a download). A new page is covered as soon as its URL is in the table. A failure names the URL,
its width and the elements that stick out of a parent that fits, so the rule to fix is easy to find.

The demo world is built once (committed, so the live server sees it) and used by one test: pytest-django empties
the database after every test that uses the live server, so test_axe.py builds its own, and the menu test needs only
the demo users.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from gunmane.web.access import Access, url_rule

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ViewportSize

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}
#: role → the demo login it uses (None: signed out)
ROLES: dict[str, str | None] = {"anonymous": None, "uda": "uda", "uda-viewer": "uda-viewer", "nara": "nara",
                                "osaka": "osaka", "admin": "admin"}
#: URL names that answer a file, not a page (their paths end in "/" like a page's)
DOWNLOADS = {"groups:document", "groups:lot_annex"}
#: pages computed for seconds (fits, plans, effects): their layout does not depend on the role or on whose data
#: they compute, so they are measured once, for 宇陀市 alone where the page exists for one municipality
ONCE = ("analysis:deterioration", "analysis:lcc", "analysis:plan", "groups:effects_result", "groups:effects_lots")
ONCE_SPEC = "292125"
#: what a visitor signed out may open (the rest answers with the login form)
PUBLIC = {Access.PUBLIC, Access.OPEN}
SKIP_NAMES = {"logout", "favicon"}

#: which elements stick out at the right of the viewport while their parent fits (the cause, not its ancestors);
#: elements inside a box that scrolls or clips horizontally are not counted (a wide table in .table-wrap is fine)
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  // inside a box that scrolls or clips: fine, unless the element is positioned outside of it (an absolute
  // element whose containing block is above the box escapes its clipping)
  const clipped = el => {
    let free = getComputedStyle(el).position === "absolute" || getComputedStyle(el).position === "fixed";
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (!free && ["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
      if (free && style.position !== "static") free = false;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + Array.from(el.classList).slice(0, 2).map(c => "." + c).join("");
  const path = el => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
    return parts.join(" > ");
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5) continue;
    const parent = el.parentElement && el.parentElement.getBoundingClientRect();
    if (parent && parent.right > vw + 0.5 && el.parentElement !== document.body) continue;
    if (clipped(el)) continue;
    out.push(path(el) + " (" + Math.round(r.right) + "px)");
  }
  return {width: document.documentElement.scrollWidth, culprits: out.slice(0, 3)};
}"""


@dataclass
class World:
    url: str
    seeds: list[str]
    token: str
    group_pk: int
    sessions: dict[str, str] = field(default_factory=dict)  # role → session cookie


def _session(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return str(c.cookies[settings.SESSION_COOKIE_NAME].value)


@pytest.fixture(scope="module")
def phone_world(django_db_setup, django_db_blocker, live_server, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """The demo region as tests/web/test_words.py builds it (group, scenario, documents, an open survey with a
    respondent, an import of 宇陀市), plus 宇陀市's viewer; committed for the live server, flushed afterwards."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    from gunmane.web.accounts.models import Membership, Role
    from gunmane.web.registry import frames
    from gunmane.web.registry.models import Municipality
    from gunmane.web.registry.refdata import load_reference_data
    from tests.web.test_words import _seeds, _world

    media = tmp_path_factory.mktemp("phone-media")
    with override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]), \
            django_db_blocker.unblock():
        from django.contrib.auth import get_user_model

        if not Municipality.objects.exists():  # a transactional test before this module flushed it
            load_reference_data()
        world = _world()
        viewer = get_user_model().objects.create_user("uda-viewer", password="pw-viewer-123")
        Membership.objects.create(user=viewer, municipality=Municipality.objects.get(lg_code="292125"),
                                  role=Role.VIEWER)
        out = World(url=live_server.url, seeds=_seeds(world), token=world["token"],
                    group_pk=world["by_prefix"]["groups:"]["pk"])
        out.sessions = {role: _session(login) for role, login in ROLES.items() if login}
        try:
            yield out
        finally:
            frames.clear_cache()
            call_command("flush", interactive=False, verbosity=0)


def role_context(browser: Browser, url: str, session: str | None, **options: Any) -> BrowserContext:
    """A browser context at phone size, signed in with the session cookie (no login form, no lockout)."""
    from django.conf import settings

    context = browser.new_context(viewport=PHONE, locale="ja-JP", base_url=url, **options)  # type: ignore[arg-type]
    if session:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}])
    context.set_default_timeout(30000)
    return context


def _page_urls(world: World, role: str) -> list[str]:
    if role == "respondent":
        return [u for u in world.seeds if "/r/" in u]
    out = []
    for url in world.seeds:
        name = resolve(urlsplit(url).path).view_name
        rule = url_rule(name) or {}
        if ("/r/" in url or "GET" not in rule or name in SKIP_NAMES or name in DOWNLOADS or name.startswith("admin:")
                or "?" in url or not urlsplit(url).path.endswith("/")):
            continue
        if role == "anonymous" and rule["GET"] not in PUBLIC:
            continue
        if name.startswith("analysis:") and name in ONCE and f"/{ONCE_SPEC}/" not in url:
            continue
        out.append(url)
    return out


def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, phone_world: World) -> None:
    """The administrator opens every URL filled with every demo object (each member's カルテ and ledger); every
    other role opens each page it may open once (the first object it may see), which is what differs by role: its
    menu, its buttons, its forms."""
    failures: list[str] = []
    measured: dict[str, int] = {}
    once_done: set[str] = set()
    for role in ("admin", *(r for r in ROLES if r != "admin"), "respondent"):
        context = role_context(browser, phone_world.url, phone_world.sessions.get(role))
        page = context.new_page()
        seen: set[str] = set()
        for url in _page_urls(phone_world, role):
            name = resolve(urlsplit(url).path).view_name
            if (name in ONCE and name in once_done) or (role != "admin" and name in seen):
                continue
            try:
                response = page.goto(url, wait_until="load", timeout=90000 if name in ONCE else 30000)
            except Exception as error:  # noqa: BLE001 — a download (or an aborted navigation) is not a page
                if "Download is starting" in str(error):
                    continue
                raise
            if (response is None or response.status != 200 or urlsplit(page.url).path != urlsplit(url).path
                    or "text/html" not in response.headers.get("content-type", "")):
                continue  # not this role's page (a refusal, or the login form)
            once_done.add(name)
            seen.add(name)
            result = page.evaluate(OVERFLOW_JS)
            measured[f"{role} {url}"] = result["width"]
            if result["width"] > PHONE["width"]:
                failures.append(f"{role} {url}: {result['width']}px — " + "; ".join(result["culprits"]))
        context.close()
    assert len(measured) > 60, f"too few pages measured: {len(measured)}"
    assert {n.split()[0] for n in measured} >= {*ROLES, "respondent"}, sorted(measured)
    assert not failures, f"{len(failures)} pages scroll sideways at 390 px:\n" + "\n".join(failures)


def test_the_menu_reaches_every_item_on_a_phone(browser: Browser, live_server, users) -> None:  # type: ignore[no-untyped-def]
    """The menu collapses behind a button (aria-expanded, aria-controls); opened, each link is visible and
    inside the screen; closed, they are hidden. Signed out and as the administrator (the longest menu).

    (A test with the live server empties the database after it: this one builds its own users, not the world.)"""
    admin = _session("admin")
    for session in (None, admin):
        context = role_context(browser, live_server.url, session)
        page = context.new_page()
        page.goto("/karte/")
        button = page.locator(".site-nav__toggle")
        assert button.is_visible()
        assert button.get_attribute("aria-expanded") == "false"
        menu = page.locator("#" + str(button.get_attribute("aria-controls")))
        links = menu.locator("a")
        assert links.count() >= 6, links.all_inner_texts()  # visitors 6; signed in 7, and 管理 for staff
        assert not links.first.is_visible()
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        for i in range(links.count()):
            link = links.nth(i)
            box = link.bounding_box()
            assert link.is_visible() and box is not None, link.inner_text()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (link.inner_text(), box)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.keyboard.press("Escape")
        assert button.get_attribute("aria-expanded") == "false"
        context.close()
    # without JavaScript the menu is a list of links that wraps (still reachable)
    context = role_context(browser, live_server.url, admin, java_script_enabled=False)
    page = context.new_page()
    page.goto("/karte/")
    links = page.locator(".site-nav a")
    assert links.count() >= 7
    for i in range(links.count()):
        assert links.nth(i).is_visible(), links.nth(i).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
