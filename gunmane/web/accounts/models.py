"""A user belongs to one or more local governments with a role."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "閲覧者"
    EDITOR = "editor", "編集者"
    ADMIN = "admin", "管理者"


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


class Membership(models.Model):
    """所属: the user works for (or on behalf of) this local government with this role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name="利用者")
    municipality = models.ForeignKey("registry.Municipality", on_delete=models.CASCADE,
                                     related_name="memberships", verbose_name="団体")
    role = models.CharField("役割", max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "municipality"], name="uniq_membership")]
        verbose_name = verbose_name_plural = "所属"

    def __str__(self) -> str:
        return f"{self.user} — {self.municipality}（{self.get_role_display()}）"
