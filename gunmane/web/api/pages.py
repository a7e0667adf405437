"""利用者ページ (/accounts/): who the user is, their governments and groups, and their API tokens.

A token's secret is shown once, on the page that answers its creation; only its SHA-256 is stored
(api.models.ApiToken). Revoking a token keeps its row (name, dates) so that the list says when it stopped.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gunmane.web.accounts.models import Membership
from gunmane.web.api.models import ApiToken
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.groups import permissions as group_permissions

NAME_MAX = 100
#: active tokens a user may hold at once (a forgotten script should not mint tokens without end)
TOKENS_MAX = 20


def _page(request: AuthenticatedHttpRequest, *, secret: str | None = None, created: ApiToken | None = None,
          error: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    return render(request, "api/account.html", {
        "memberships": Membership.objects.filter(user_id=user.pk).select_related("municipality__prefecture")
        .order_by("municipality__lg_code"),
        "groups": group_permissions.visible_groups(user),
        "tokens": ApiToken.objects.filter(user_id=user.pk),
        "secret": secret, "created": created, "error": error, "name_max": NAME_MAX,
    }, status=status)


def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()
    if not name or len(name) > NAME_MAX:
        return _page(request, error=f"トークンの名前を {NAME_MAX} 文字以内で入力してください（例：県の集計システム）。",
                     status=400)
    if ApiToken.objects.active().filter(user_id=request.user.pk).count() >= TOKENS_MAX:
        return _page(request, error=f"使えるトークンは一人 {TOKENS_MAX} 個までです。使っていないものを無効にしてください。",
                     status=400)
    token, secret = ApiToken.issue(request.user, name)
    return _page(request, secret=secret, created=token)


@require_POST
def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user_id=request.user.pk, revoked_at__isnull=True)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    messages.success(request, f"トークン「{token.name}」を無効にしました。このトークンを使った呼び出しはもう受け付けません。")
    return redirect("account")
