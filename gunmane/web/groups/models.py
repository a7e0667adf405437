"""群 (Group): members and their roles. The workspace around it (process, surveys, documents) builds on this."""

from __future__ import annotations

from django.db import models

from gunmane.web.registry.models import Municipality


class CollaborationType(models.TextChoices):
    HORIZONTAL = "horizontal", "広域連携（水平連携）"
    VERTICAL = "vertical", "広域連携（垂直連携）"
    MULTI_SECTOR = "multi_sector", "多分野連携"


class MemberRole(models.TextChoices):
    LEAD = "lead", "幹事"
    MEMBER = "member", "構成団体"
    PREFECTURE = "prefecture", "都道府県（支援）"
    OBSERVER = "observer", "オブザーバー"


class Group(models.Model):
    name = models.CharField("群の名称", max_length=100, unique=True)
    description = models.TextField("概要", blank=True)
    collaboration_types = models.JSONField("連携の類型", default=list, blank=True,
                                           help_text="horizontal / vertical / multi_sector（複数可）")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "群"

    def __str__(self) -> str:
        return self.name

    def member_codes(self, *, include_observers: bool = False) -> list[str]:
        """lg_codes of the members whose facilities the group's figures cover."""
        qs = self.members.select_related("municipality")
        if not include_observers:
            qs = qs.exclude(role=MemberRole.OBSERVER)
        return [m.municipality.lg_code for m in qs]

    def collaboration_labels(self) -> list[str]:
        labels = dict(CollaborationType.choices)
        return [labels.get(c, c) for c in self.collaboration_types]


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members", verbose_name="群")
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="group_memberships",
                                     verbose_name="団体")
    role = models.CharField("役割", max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER)

    class Meta:
        ordering = ["group", "municipality__lg_code"]
        constraints = [models.UniqueConstraint(fields=["group", "municipality"], name="uniq_group_member")]
        verbose_name = verbose_name_plural = "群の構成団体"

    def __str__(self) -> str:
        return f"{self.group}：{self.municipality}（{self.get_role_display()}）"
