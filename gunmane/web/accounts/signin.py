"""Sign-in security hooks for django-axes (ログインの制限): the client address and the lockout page.

Named in settings (AXES_CLIENT_IP_CALLABLE, AXES_LOCKOUT_CALLABLE); kept apart from the views so that
the lockout rule has one home.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKOUT_STATUS = 429  # Too Many Requests: the browser shows our page; scripts can tell it from 403


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address a failed login is counted against.

    Behind a reverse proxy (GUNMANE_BEHIND_PROXY=1) every request comes from the proxy, so the
    address is the *last* X-Forwarded-For entry: the one the proxy itself appended. Earlier entries
    are whatever the browser sent and could be forged to dodge or to cause a lockout.
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and (ip := _valid_ip(forwarded.split(",")[-1])):
            return ip
    return _valid_ip(request.META.get("REMOTE_ADDR", "")) or None


def lockout_minutes() -> int:
    """Minutes until a locked login may try again (each failure while locked restarts the wait)."""
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """The Japanese lockout page, shown instead of the login form while the lock lasts."""
    return render(request, "registration/locked_out.html", {"minutes": lockout_minutes()},
                  status=LOCKOUT_STATUS)
