"""The generated authorization test (the NetBox habit): every URL × every role × GET and POST.

It enumerates every URL pattern from the resolver (the REST API's too: /api/, namespace "api"), fills the path with objects that belong to another
municipality (曽爾村, an accepted partner of the demo group), the demo group, its survey and an invited,
not yet accepted municipality (御杖村), and checks each response against the rule that
gunmane.web.access.URL_RULES declares for that URL. A URL without a rule fails the test.

Every response body (HTML, JSON, CSV, XLSX, Word, PDF text) is searched for marker facility names:
曽爾村's marker may reach only those who may read its ledger (its prefecture, the admin, and the group's
accepted members through group pages); 御杖村's marker — a municipality that has not accepted — must never
appear on any page of the group, for anyone.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gunmane.web.access import Access, url_rule

V_CODE, P_CODE, PREF_CODE = "293857", "293865", "290009"  # 曽爾村 (partner), 御杖村 (invited), 奈良県
V_MARKER, P_MARKER = "漏洩確認マーカー曽爾", "漏洩確認マーカー御杖"
ROLES = ("anonymous", "outsider", "outsider_nara", "member_editor", "member_viewer", "invited_editor",
         "prefecture_viewer", "admin", "respondent")


@dataclass
class World:
    group: Any
    survey: Any
    token: str
    values: dict[str, list[str]]   # kwarg name → values to try (by URL name prefix when ambiguous)
    by_url: dict[str, dict[str, str]]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[tuple[str, URLPattern]]:
    out: list[tuple[str, URLPattern]] = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            out += _walk(p, prefix + str(p.pattern), ns)
        elif p.name:
            out.append((f"{namespace}{p.name}", p))
    return out


def all_url_names() -> list[str]:
    return sorted({name for name, _ in _walk(get_resolver())})


def test_every_url_has_a_rule() -> None:
    missing = [n for n in all_url_names() if url_rule(n) is None]
    assert not missing, f"URL_RULES (gunmane/web/access.py) has no rule for: {missing}"


# ------------------------------------------------------------------------------------------------ world


@pytest.fixture
def world(demo, users, tmp_path) -> World:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from gunmane.web.accounts.models import Membership, Role
    from gunmane.web.groups import effects as group_effects
    from gunmane.web.groups.models import EffectScenario, GroupMember, MemberStatus
    from gunmane.web.groups.views import generate
    from gunmane.web.registry import frames
    from gunmane.web.registry.models import (
        Facility,
        ImportKind,
        ImportRecord,
        ImportStatus,
        Inspection,
        Measure,
        Municipality,
    )
    from gunmane.web.surveys import services
    from gunmane.web.surveys.services import RecipientRow

    group = demo
    GroupMember.objects.filter(group=group, municipality__lg_code=P_CODE).update(status=MemberStatus.INVITED)
    v_fac = Facility.objects.filter(manager__lg_code=V_CODE, facility_type__code="bridge").order_by("facility_id").first()
    p_fac = Facility.objects.filter(manager__lg_code=P_CODE, facility_type__code="bridge").order_by("facility_id").first()
    assert v_fac is not None and p_fac is not None
    Facility.objects.filter(pk=v_fac.pk).update(name=V_MARKER)
    Facility.objects.filter(pk=p_fac.pk).update(name=P_MARKER)
    # every P bridge gets the marker in its route, so any P facility in a group list shows it
    Facility.objects.filter(manager__lg_code=P_CODE).update(route=P_MARKER)
    frames.clear_cache()

    User = get_user_model()
    nara_city = User.objects.create_user("nara-city", password="pw-nara-city-1")
    Membership.objects.create(user=nara_city, municipality=Municipality.objects.get(lg_code="292010"),
                              role=Role.EDITOR)
    v = Municipality.objects.get(lg_code=V_CODE)
    rec = ImportRecord(kind=ImportKind.FACILITIES, municipality=v, original_name="曽爾村_台帳.csv",
                       status=ImportStatus.SUCCEEDED,
                       errors=[{"row": 2, "column": "施設名", "value": V_MARKER, "code": "x", "message": "テスト"}])
    rec.file.save("v.csv", ContentFile(f"施設ID,施設名\nB1,{V_MARKER}\n".encode()), save=False)
    rec.save()

    es = EffectScenario.objects.create(group=group, name="試算", toml=group_effects.default_scenario_toml(group))
    doc = generate(group, "spec", "docx", "L1")
    survey = services.create_from_template(group, template_key="contractor", sectors=["road"], works=["patrol"],
                                           closes_on=timezone.localdate() + timedelta(days=14))
    recipients = services.add_recipients(survey, [RecipientRow(line=1, name="宇陀建設", attributes=())],
                                         timezone.localdate() + timedelta(days=14))
    from gunmane.web.surveys.models import SurveyStatus

    survey.status = SurveyStatus.OPEN  # respondents can open their link
    survey.save(update_fields=["status"])
    question = survey.questions.first()
    item = group.checklist.first()
    members = {m.municipality.lg_code: m for m in GroupMember.objects.filter(group=group)}
    values = {
        "lg_code": [V_CODE], "facility_id": [v_fac.facility_id], "kind": ["facilities"], "code": ["29"],
        "spec": [f"group-{group.pk}", V_CODE], "lot": ["L1"], "token": [recipients[0].token],
    }
    by_url = {
        "registry:": {"pk": str(rec.pk), "fmt": "xlsx"},
        "groups:": {"pk": str(group.pk), "sid": str(es.pk), "doc_pk": str(doc.pk), "item_pk": str(item.pk),
                    "member_pk": str(members[V_CODE].pk)},
        "groups:invitation": {"member_pk": str(members[P_CODE].pk)},
        "groups:invitation_answer": {"member_pk": str(members[P_CODE].pk)},
        "groups:member_cancel": {"member_pk": str(members[P_CODE].pk)},
        "analysis:": {"pk": str(group.pk)},
        "surveys:": {"pk": str(survey.pk), "group_pk": str(group.pk), "qpk": str(question.pk),
                     "rpk": str(recipients[0].pk), "fmt": "xlsx"},
        "surveys:results_export": {"fmt": "csv"},
        "admin:": {"object_id": str(v_fac.pk), "app_label": "registry", "content_type_id": "1"},
        # the REST API: 曽爾村's ledger, its import, the demo group and its scenario
        "api:": {"import_pk": str(rec.pk), "group_pk": str(group.pk), "sid": str(es.pk)},
        "api:inspection_detail": {"pk": str(Inspection.objects.filter(facility__manager=v).first().pk)},
        "api:measure_detail": {"pk": str(Measure.objects.filter(facility__manager=v).first().pk)},
    }
    return World(group, survey, recipients[0].token, values, by_url)


def _kwargs(world: World, name: str, pattern: URLPattern, prefix_names: list[str]) -> list[dict[str, str]]:
    """Path parameters for one URL (several variants where a parameter means several kinds of scope)."""
    keys = list(pattern.pattern.regex.groupindex)
    fixed: dict[str, str] = {}
    for prefix in sorted((k for k in world.by_url if name.startswith(k)), key=len):
        fixed.update(world.by_url[prefix])
    variants: list[dict[str, str]] = [{}]
    for key in keys:
        if key in fixed:
            options = [fixed[key]]
        elif key in world.values:
            options = world.values[key]
        else:
            options = ["1"]
        variants = [{**v, key: o} for v in variants for o in options]
    return variants


def _client(role: str, world: World) -> Client:
    c = Client()
    login = {"outsider": "osaka", "outsider_nara": "nara-city", "member_editor": "uda", "member_viewer": "uda-viewer",
             "invited_editor": "mitsue", "prefecture_viewer": "nara", "admin": "admin"}.get(role)
    if login:
        from django.contrib.auth import get_user_model

        c.force_login(get_user_model().objects.get(username=login))
    return c


def expected(access: str, role: str, kwargs: dict[str, str], name: str) -> bool:
    """Whether the role may use the URL under its rule, for these objects (the rule table, restated)."""
    if role == "admin":
        return True
    if access in (Access.OPEN, Access.PUBLIC):
        return True
    if role in ("anonymous", "respondent"):
        return False
    if access == Access.SIGNED_IN:
        return True
    if access == Access.MUNICIPALITY_EDITOR:
        return role in ("outsider", "outsider_nara", "member_editor", "invited_editor")
    if access == Access.ADMIN:
        return False
    group_roles = {"member_editor", "member_viewer", "prefecture_viewer"}  # 奈良県 accepted in the demo group
    if access in (Access.LEDGER_VIEW, Access.LEDGER_EDIT):
        return access == Access.LEDGER_VIEW and role == "prefecture_viewer"  # 曽爾村's ledger
    if access == Access.LIFECYCLE:
        if kwargs.get("spec", "").startswith("group-"):
            return role in group_roles
        return role == "prefecture_viewer"
    if access == Access.GROUP_VIEW:
        return role in group_roles
    if access == Access.GROUP_EDIT:
        return role == "member_editor"
    if access == Access.MEMBER_SELF:
        invited = name in ("groups:invitation_answer",)
        return role == "invited_editor" if invited else False  # 曽爾村's own editors are not among the roles
    if access == Access.INVITATION:
        return role == "invited_editor"
    raise AssertionError(f"unknown access {access}")


def _text(content: bytes, content_type: str) -> str:
    """Everything a person could read in a response: HTML/JSON/CSV text, cells, paragraphs, PDF text."""
    if content.startswith(b"%PDF"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    if content.startswith(b"PK"):
        parts = []
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            for n in z.namelist():
                if n.endswith(".xml"):
                    parts.append(z.read(n).decode("utf-8", "replace"))
        return "\n".join(parts)
    for enc in ("utf-8-sig", "cp932"):
        try:
            return content.decode(enc)
        except UnicodeDecodeError:
            continue
    return content.decode("utf-8", "replace")


def _may_see_v(role: str, name: str, kwargs: dict[str, str]) -> bool:
    """Who may read 曽爾村's facility names: its prefecture and the admin anywhere; accepted partners on
    the group's own pages (group views are for the group's scope)."""
    if role in ("prefecture_viewer", "admin"):
        return True
    group_page = name.startswith(("groups:", "surveys:")) or kwargs.get("spec", "").startswith("group-") \
        or name == "analysis:group"
    return group_page and role in ("member_editor", "member_viewer")


def _may_see_p(role: str, name: str, kwargs: dict[str, str]) -> bool:
    """御杖村 has not accepted: only its own ledger pages for its prefecture and the admin."""
    if name.startswith(("groups:", "surveys:")) or kwargs.get("spec", "").startswith("group-") \
            or name == "analysis:group":
        return False
    return role in ("prefecture_viewer", "admin", "invited_editor")


@pytest.mark.parametrize("role", ROLES)
def test_every_url_for_every_role(world: World, role: str) -> None:  # noqa: C901 (complexity ratchet, #17)
    """GET and POST every URL as the role: denied where the rule denies, never a server error, no leak."""
    client = _client(role, world)
    failures: list[str] = []
    patterns = _walk(get_resolver())
    names = [n for n, _ in patterns]
    for method in ("GET", "POST"):
        for name, pattern in patterns:
            rule = url_rule(name)
            assert rule is not None, name
            if name.startswith("admin:") and role not in ("admin", "outsider", "anonymous"):
                continue  # the admin site is the same for every non-staff role; two stand for all
            if name.endswith("logout"):
                continue  # signing out would end the role's session for the URLs after it
            for kwargs in _kwargs(world, name, pattern, names):
                try:
                    url = reverse(name, kwargs=kwargs)
                except Exception:  # noqa: BLE001 — a pattern whose filled value does not match (admin variants)
                    continue
                if name == "surveys:respond" and role != "respondent":
                    continue  # the token is the respondent's; others are anonymous visitors without it
                response = client.get(url) if method == "GET" else client.post(url, {})
                status = response.status_code
                where = f"{method} {url} ({name}) as {role}: {status}"
                if status >= 500:
                    failures.append(f"{where} server error")
                    continue
                if method not in rule:
                    # the wrong method: refused before any work (anonymous visitors go to the login first)
                    if status not in (405, 302) or (status == 302 and role not in ("anonymous", "respondent")):
                        failures.append(f"{where} — {method} must be refused (405)")
                    continue
                access = rule[method]
                allowed = expected(access, role, kwargs, name)
                if not allowed and status not in (302, 401, 403, 404):  # 401: the API's answer without a login
                    failures.append(f"{where} — should be denied under {access}")
                if not allowed and status == 302:
                    location = response.get("Location", "")
                    if "login" not in location:
                        failures.append(f"{where} — denied role redirected to {location} (did it act?)")
                # the admin site decides per model what staff may do (axes' logs cannot be added by hand)
                if allowed and status == 403 and not name.startswith("admin:"):
                    failures.append(f"{where} — should be allowed under {access}")
                if status == 200 and hasattr(response, "content") or getattr(response, "streaming", False):
                    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) \
                        else response.content
                    text = _text(body, response.get("Content-Type", ""))
                    if V_MARKER in text and not _may_see_v(role, name, kwargs):
                        failures.append(f"{where} — 曽爾村's ledger leaked")
                    if P_MARKER in text and not _may_see_p(role, name, kwargs):
                        failures.append(f"{where} — the invited 御杖村's ledger leaked")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("role", "lg_code", "get", "post"), [
    ("member_editor", "292125", 200, 400),    # 宇陀市's editor on its own table: may post (an empty form: 400)
    ("member_viewer", "292125", 200, 403),    # 宇陀市's viewer: sees, may not upload
    ("member_editor", V_CODE, 403, 403),      # a partner's table is the partner's ledger
    ("prefecture_viewer", V_CODE, 200, 403),  # 奈良県 sees its municipality's table
    ("invited_editor", P_CODE, 200, 400),     # 御杖村's own editor
    ("outsider", "292125", 403, 403),
    ("anonymous", "292125", 302, 302),
])
def test_unit_prices_of_a_municipality(world: World, role: str, lg_code: str, get: int, post: int) -> None:
    """analysis:unit_prices (ledger_view to see, ledger_edit to upload) on the role's own municipality too:
    the generated test above only reaches 曽爾村's."""
    assert url_rule("analysis:unit_prices") == {"GET": Access.LEDGER_VIEW, "POST": Access.LEDGER_EDIT}
    client = _client(role, world)
    url = reverse("analysis:unit_prices", kwargs={"lg_code": lg_code})
    assert client.get(url).status_code == get
    assert client.post(url, {}).status_code == post
