"""The method half of the URL rules: every URL answers only the methods its rule lists.

Downloads answer GET (and HEAD) only; actions that change something answer POST only, so a link, an
image tag or a prefetching browser can never change data, and CSRF protection covers every change.
A URL whose name has no rule in accounts.permissions.URL_RULES is refused (fail closed) — the
authorization test names it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed

from gunmane.web.accounts.permissions import url_rule

log = logging.getLogger(__name__)
#: methods every URL answers (HEAD is a GET without the body; OPTIONS says what is allowed)
ALWAYS = {"HEAD": "GET"}


class UrlRuleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        match = request.resolver_match
        if match is None:
            return None
        rule = url_rule(match.view_name)
        if rule is None:
            log.error("URL %s has no access rule in accounts.permissions.URL_RULES", match.view_name)
            return HttpResponseForbidden("このページの利用条件が定められていないため、表示できません。".encode())
        method = ALWAYS.get(request.method or "", request.method or "")
        if method not in rule:
            return HttpResponseNotAllowed(sorted(set(rule) | ({"HEAD"} if "GET" in rule else set())))
        return None
