"""Token authentication: ``Authorization: Bearer <token>`` (or ``Token <token>``), checked against the hash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from gunmane.web.api.models import ApiToken, token_hash

KEYWORDS = ("bearer", "token")
#: last_used_at is written at most this often per token (one UPDATE per request would be a write per read)
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode("latin-1") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization ヘッダーは「Bearer トークン」の形で送ってください。")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("トークンに使えない文字が含まれています。") from None
        token = (ApiToken.objects.active().select_related("user").filter(key_hash=token_hash(secret)).first())
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("トークンが正しくないか、無効にされています。")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="gunmane"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "gunmane.web.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer",
                "description": "利用者ページ（/accounts/）で作った API トークン。`Authorization: Bearer gm-…`"}
