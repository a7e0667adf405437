"""Cases, process, decisions and 素地, readable without a group (public: no login)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def cases(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def process(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def start(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def decisions(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def foundation(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def survey_template(request: HttpRequest, key: str) -> HttpResponse:
    raise Http404("準備中")
