"""The root URL: the six questions for a visitor, the user's own home once signed in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from gunmane.web.guide import dashboard, public


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return dashboard.home(request)
    return public.index(request)
