"""The request type of views behind a sign-in rule (for the type checker)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest

__all__ = ["AuthenticatedHttpRequest"]


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view whose rule needs a signed-in user: gunmane.web.access.UrlRuleMiddleware has refused
    the anonymous, so `request.user` is a User (for the type checker; never instantiated)."""

    user: User
