"""Per-user API tokens: the secret is shown once when created and only its SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

#: what every secret starts with, so that a leaked token is recognisable (secret scanners, logs)
TOKEN_PREFIX = "gm-"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """An API token of a user: the requests made with it act as that user, under the same rules."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name="利用者")
    name = models.CharField("名前", max_length=100)
    prefix = models.CharField("先頭の文字", max_length=16)
    key_hash = models.CharField("ハッシュ値", max_length=64, unique=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    last_used_at = models.DateTimeField("最終利用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("無効にした日時", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "API トークン"

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @classmethod
    def issue(cls, user: object, name: str) -> tuple[ApiToken, str]:
        """A new token and its secret (the secret is not stored: show it now or never)."""
        secret = TOKEN_PREFIX + secrets.token_hex(32)  # 256 bits; hex: no character needs quoting anywhere
        token = cls.objects.create(user=user, name=name, prefix=secret[:10], key_hash=token_hash(secret))
        return token, secret
