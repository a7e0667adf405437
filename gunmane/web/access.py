"""Which rule governs every URL of the site, and the methods each URL answers.

Each URL name maps to the rule that governs it (the rules themselves are decided in
gunmane.web.accounts.permissions for the ledger and gunmane.web.groups.permissions for groups); the table
names every app's URLs, so it sits with the site's URL conf, above every app. tests/web/test_authorization.py
enumerates the resolver, fails on a URL without a rule here, and checks every role against the rule.

The method half is enforced by UrlRuleMiddleware: downloads answer GET (and HEAD) only; actions that change
something answer POST only, so a link, an image tag or a prefetching browser can never change data, and CSRF
protection covers every change. A URL whose name has no rule here is refused (fail closed) — the
authorization test names it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed, JsonResponse


class Access:
    """What a URL's objects need (the object is the municipality, group, import or survey in its path)."""

    OPEN = "open"                    # no login: the sign-in page, a survey's answer link (its token)
    PUBLIC = "public"                # no login: public statistics, カルテ of public figures, the guide's pages
    SIGNED_IN = "signed_in"          # public statistics, catalogues, guides, one's own lists
    MUNICIPALITY_EDITOR = "municipality_editor"  # an editor of some municipality (creates a group)
    LEDGER_VIEW = "ledger_view"      # the ledger of the municipality in the path (or of the import)
    LEDGER_EDIT = "ledger_edit"
    LIFECYCLE = "lifecycle"          # a scope: municipality → ledger view; group → group view; nation → admin
    GROUP_VIEW = "group_view"        # the group (or the survey's group) in the path
    GROUP_EDIT = "group_edit"
    MEMBER_SELF = "member_self"      # the member municipality's own editors (duties, accept, decline, leave)
    INVITATION = "invitation"        # staff of the invited municipality
    ADMIN = "admin"                  # Django's admin site: staff only


Rule = dict[str, str]  # HTTP method → Access; a method not listed is refused (405)


def page(access: str) -> Rule:
    """A page or a download: GET only."""
    return {"GET": access}


def form(view: str, edit: str | None = None) -> Rule:
    """A page with a form: GET to see it, POST (with CSRF) to change something."""
    return {"GET": view, "POST": edit or view}


def action(access: str) -> Rule:
    """A button that changes something: POST only."""
    return {"POST": access}


def record(view: str, edit: str) -> Rule:
    """An API resource: GET to read it, PUT and PATCH to change it, DELETE to delete it."""
    return {"GET": view, "PUT": edit, "PATCH": edit, "DELETE": edit}


URL_RULES: dict[str, Rule] = {
    "home": page(Access.PUBLIC),  # the six questions signed out; the user's own home signed in
    # guide: the front door (public, readable without a group)
    "guide:index": page(Access.PUBLIC),
    "guide:concept": page(Access.PUBLIC),
    "guide:search": page(Access.PUBLIC),
    "guide:cases": page(Access.PUBLIC),
    "guide:process": page(Access.PUBLIC),
    "guide:start": page(Access.PUBLIC),  # suggestions only; creating the group is groups:create (signed in)
    "guide:decisions": page(Access.PUBLIC),
    "guide:foundation": page(Access.PUBLIC),
    "guide:survey_template": page(Access.PUBLIC),
    "login": form(Access.OPEN),
    "favicon": page(Access.OPEN),
    "logout": action(Access.OPEN),
    # registry: the ledger
    "registry:municipality_list": page(Access.SIGNED_IN),
    "registry:municipality_detail": page(Access.SIGNED_IN),
    "registry:civil_engineers": action(Access.LEDGER_EDIT),
    "registry:facility_list": page(Access.LEDGER_VIEW),
    "registry:facility_detail": page(Access.LEDGER_VIEW),
    "registry:facility_delete": form(Access.LEDGER_EDIT),
    "registry:deleted_facilities": page(Access.LEDGER_VIEW),
    "registry:facility_restore": action(Access.LEDGER_EDIT),
    "registry:import_undo": form(Access.LEDGER_EDIT),
    "registry:import_rerun": action(Access.LEDGER_EDIT),
    "registry:import_create": form(Access.LEDGER_EDIT),
    "registry:export": page(Access.LEDGER_VIEW),
    "registry:import_list": page(Access.SIGNED_IN),
    "registry:import_detail": page(Access.LEDGER_VIEW),
    "registry:import_progress": page(Access.LEDGER_VIEW),
    "registry:import_issues_xlsx": page(Access.LEDGER_VIEW),
    "registry:import_file": page(Access.LEDGER_VIEW),
    "registry:template": page(Access.SIGNED_IN),
    "registry:national_report": page(Access.LEDGER_VIEW),
    "registry:national_guide": page(Access.SIGNED_IN),
    # analysis: カルテ (public statistics for all; ledger figures by ledger_figure_codes) and lifecycle
    "analysis:national": page(Access.PUBLIC),
    # 全国の束ね効果 (#14 §4): public; visitors see only reference-data (office approximation) runs
    "analysis:national_districting": page(Access.PUBLIC),
    "analysis:map_data": page(Access.PUBLIC),
    "analysis:series_csv": page(Access.PUBLIC),
    "analysis:prefecture": page(Access.PUBLIC),
    "analysis:group": page(Access.GROUP_VIEW),
    "analysis:groups": page(Access.SIGNED_IN),
    "analysis:municipality": page(Access.PUBLIC),
    "analysis:publish": action(Access.LEDGER_EDIT),
    "analysis:deterioration_pairs": form(Access.SIGNED_IN),
    "analysis:deterioration": page(Access.LIFECYCLE),
    "analysis:lcc": page(Access.LIFECYCLE),
    "analysis:plan": page(Access.LIFECYCLE),
    "analysis:unit_prices": form(Access.LEDGER_VIEW, Access.LEDGER_EDIT),  # a municipality's own LCC unit prices
    # groups
    "groups:list": page(Access.SIGNED_IN),
    "groups:create": form(Access.MUNICIPALITY_EDITOR),
    "groups:board": page(Access.SIGNED_IN),
    "groups:overview": page(Access.GROUP_VIEW),
    "groups:settings": form(Access.GROUP_EDIT),
    "groups:duties": form(Access.MEMBER_SELF),
    "groups:member_invite": action(Access.GROUP_EDIT),
    "groups:invitation": page(Access.INVITATION),
    "groups:invitation_answer": action(Access.MEMBER_SELF),
    "groups:member_leave": action(Access.MEMBER_SELF),
    "groups:member_cancel": action(Access.GROUP_EDIT),
    "groups:mechanism": page(Access.GROUP_VIEW),
    "groups:cases": page(Access.GROUP_VIEW),
    "groups:process": page(Access.GROUP_VIEW),
    "groups:item_add": action(Access.GROUP_EDIT),
    "groups:item": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "groups:people": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "groups:documents": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "groups:document": page(Access.GROUP_VIEW),
    "groups:lot_annex": page(Access.GROUP_VIEW),
    "groups:effects": page(Access.GROUP_VIEW),
    "groups:effects_new": form(Access.GROUP_VIEW, Access.GROUP_EDIT),  # GET: back to the list (creates nothing)
    "groups:effects_result": page(Access.GROUP_VIEW),
    "groups:effects_edit": form(Access.GROUP_EDIT),
    "groups:effects_lots": page(Access.GROUP_VIEW),
    "groups:effects_lots_geo": page(Access.GROUP_VIEW),  # the lot map as GeoJSON / KML / PNG
    "groups:districts": form(Access.GROUP_VIEW),  # 地域分割: POST only computes (an uploaded fit), changes nothing
    "groups:districts_file": page(Access.GROUP_VIEW),  # the districting as Excel / GeoJSON / JSON
    "groups:districts_use": action(Access.GROUP_EDIT),  # 「この地区割りをロット設計に使う」
    "groups:districts_forget": action(Access.GROUP_EDIT),
    # surveys (the survey's group decides; respondents answer by their token)
    "surveys:index": page(Access.SIGNED_IN),
    "surveys:group": page(Access.GROUP_VIEW),
    "surveys:create": form(Access.GROUP_EDIT),
    "surveys:detail": page(Access.GROUP_VIEW),
    "surveys:settings": form(Access.GROUP_EDIT),
    "surveys:status": action(Access.GROUP_EDIT),
    "surveys:delete": action(Access.GROUP_EDIT),
    "surveys:preview": page(Access.GROUP_VIEW),
    "surveys:pdf": page(Access.GROUP_VIEW),
    "surveys:question_create": form(Access.GROUP_EDIT),
    "surveys:question_edit": form(Access.GROUP_EDIT),
    "surveys:question_delete": action(Access.GROUP_EDIT),
    "surveys:question_move": action(Access.GROUP_EDIT),
    "surveys:recipients": form(Access.GROUP_EDIT),
    "surveys:recipients_expiry": action(Access.GROUP_EDIT),
    "surveys:recipient_delete": action(Access.GROUP_EDIT),
    "surveys:links": page(Access.GROUP_EDIT),
    "surveys:results": page(Access.GROUP_VIEW),
    "surveys:results_export": page(Access.GROUP_VIEW),
    "surveys:respond": form(Access.OPEN),
    "admin:login": form(Access.OPEN),
    # a job's progress only (random id; the file is served by the page that asked, under its rule)
    "jobs:status": page(Access.PUBLIC),
    # the user's own page and API tokens (each user sees and revokes only their own)
    "account": page(Access.SIGNED_IN),
    "account_token_create": action(Access.SIGNED_IN),
    "account_token_revoke": action(Access.SIGNED_IN),
    # the REST API (gunmane.web.api): the same rules as the pages, checked by api.permissions.UrlRule
    "api:schema": page(Access.PUBLIC),
    "api:docs": page(Access.PUBLIC),
    "api:municipality_list": page(Access.PUBLIC),
    "api:municipality_detail": page(Access.PUBLIC),
    "api:statistics": page(Access.PUBLIC),
    "api:facility_list": form(Access.LEDGER_VIEW, Access.LEDGER_EDIT),
    "api:facility_bulk": action(Access.LEDGER_EDIT),
    "api:facility_detail": record(Access.LEDGER_VIEW, Access.LEDGER_EDIT),
    "api:inspection_list": form(Access.LEDGER_VIEW, Access.LEDGER_EDIT),
    "api:inspection_bulk": action(Access.LEDGER_EDIT),
    "api:inspection_detail": record(Access.LEDGER_VIEW, Access.LEDGER_EDIT),
    "api:measure_list": form(Access.LEDGER_VIEW, Access.LEDGER_EDIT),
    "api:measure_bulk": action(Access.LEDGER_EDIT),
    "api:measure_detail": record(Access.LEDGER_VIEW, Access.LEDGER_EDIT),
    "api:import_create": action(Access.LEDGER_EDIT),
    "api:import_detail": page(Access.LEDGER_VIEW),
    "api:deterioration": page(Access.LEDGER_VIEW),
    "api:group_deterioration": page(Access.GROUP_VIEW),
    "api:group_districting": page(Access.GROUP_VIEW),
    "api:karte": page(Access.PUBLIC),  # ledger figures only where ledger_figure_codes allows, as on the pages
    "api:group_list": page(Access.SIGNED_IN),
    "api:group_detail": page(Access.GROUP_VIEW),
    "api:group_karte": page(Access.GROUP_VIEW),
    "api:group_members": page(Access.GROUP_VIEW),
    "api:group_invite": action(Access.GROUP_EDIT),
    "api:invitations": page(Access.SIGNED_IN),
    "api:scenario_list": form(Access.GROUP_VIEW, Access.GROUP_EDIT),
    "api:scenario_detail": {"GET": Access.GROUP_VIEW, "DELETE": Access.GROUP_EDIT},
    "api:scenario_result": page(Access.GROUP_VIEW),
    "api:scenario_lots": page(Access.GROUP_VIEW),
    "api:not_found": {m: Access.PUBLIC for m in ("GET", "POST", "PUT", "PATCH", "DELETE")},  # a JSON 404
}
#: every URL of Django's admin site (namespace "admin") is for staff only
NAMESPACE_RULES: dict[str, Rule] = {"admin": form(Access.ADMIN)}


def url_rule(name: str) -> Rule | None:
    """The rule of a URL name ("namespace:name"), or None if nobody decided it (a test fails on that)."""
    if name in URL_RULES:
        return URL_RULES[name]
    namespace = name.split(":", 1)[0] if ":" in name else ""
    return NAMESPACE_RULES.get(namespace)


# --------------------------------------------------------------------------- the method half

log = logging.getLogger(__name__)
#: methods every URL answers (HEAD is a GET without the body; OPTIONS says what is allowed)
ALWAYS = {"HEAD": "GET"}


#: the rules a visitor who is not signed in may use
ANONYMOUS = {Access.OPEN, Access.PUBLIC}


class UrlRuleMiddleware(LoginRequiredMiddleware):
    """The URL table decides, for every request: the method, then whether signing in is needed (a rule
    of OPEN or PUBLIC lets a visitor in; every other rule sends them to the login page, as Django's
    LoginRequiredMiddleware does, which this replaces so that the table is the one authority)."""

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        match = request.resolver_match
        if match is None:
            return None
        rule = url_rule(match.view_name)
        if rule is None:
            log.error("URL %s has no access rule in gunmane.web.access.URL_RULES", match.view_name)
            return HttpResponseForbidden("このページの利用条件が定められていないため、表示できません。".encode())
        method = ALWAYS.get(request.method or "", request.method or "")
        if method not in rule:
            allowed = sorted(set(rule) | ({"HEAD"} if "GET" in rule else set()))
            if match.namespace == "api":  # the API answers in JSON (api.errors' shape)
                response = JsonResponse({"status": "not_allowed", "errors": [{
                    "field": None, "label": None, "code": "method_not_allowed",
                    "message": f"この URL は {request.method} では使えません（使える方法: {', '.join(allowed)}）。"}]},
                    status=405, json_dumps_params={"ensure_ascii": False})
                response["Allow"] = ", ".join(allowed)
                return response
            return HttpResponseNotAllowed(allowed)
        if rule[method] in ANONYMOUS or match.namespace == "admin" or request.user.is_authenticated:
            return None  # Django's admin site has its own login page
        if match.namespace == "api":
            return None  # an API token is read by the API itself, which applies this same rule (api.permissions)
        return self.handle_no_permission(request, view_func)
