"""What the analysis pages keep: a municipality's own LCC unit prices (analysis.unit_prices)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class MunicipalUnitPrices(models.Model):
    """A municipality's own unit prices for the LCC and the repair plan (対策の単価表), uploaded by one of its
    editors. The latest upload is the one used; earlier ones stay as the record of what was used when."""

    municipality = models.ForeignKey("registry.Municipality", on_delete=models.CASCADE,
                                     related_name="unit_price_tables", verbose_name="団体")
    actions = models.JSONField("対策と単価")  # ActionCost.as_json() per facility type and grade
    changed = models.JSONField("既定から変えた行", default=list)
    kept = models.JSONField("既定のままの行", default=list)
    file_name = models.CharField("ファイル名", max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="登録した人")
    uploaded_by_name = models.CharField("登録した人（氏名・所属）", max_length=300, blank=True)
    uploaded_at = models.DateTimeField("登録日時", default=timezone.now)
    active = models.BooleanField("使用中", default=True)  # False once the municipality went back to the defaults

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = "LCC の単価表"
        verbose_name_plural = "LCC の単価表"

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.file_name}（{self.uploaded_at:%Y-%m-%d}）"


class NationalDistricting(models.Model):
    """A saved run of `gunmane districts national --save` (issue #14 §4): the whole document as computed. The
    newest run computed from the office approximation only (``office_only``) is the one the public page shows;
    runs that used municipal ledgers are shown to signed-in users only (docs/permissions.md)."""

    result = models.JSONField("計算結果")  # gunmane.scale.national.run's document
    office_only = models.BooleanField("役所位置の近似のみ", default=True)
    computed_at = models.DateTimeField("計算日時", default=timezone.now)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        verbose_name = verbose_name_plural = "全国の束ね効果の計算結果"

    def __str__(self) -> str:
        return f"全国の束ね効果（{self.computed_at:%Y-%m-%d %H:%M}）"
