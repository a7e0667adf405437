"""The six-question page, the concept page and municipality search (public: no login)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def index(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def concept(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")


def search(request: HttpRequest) -> HttpResponse:
    raise Http404("準備中")
