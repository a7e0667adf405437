"""One row per piece of long work: what it makes, for which data version, how far it has got."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "順番待ち"
    RUNNING = "running", "計算中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


class Job(models.Model):
    """A job keyed by (kind, subject, version): the same key is the same work, done once.

    ``version`` is the data version the work read (registry.frames.fingerprint); a change of data makes a new
    key, so a stored file is never served for data it was not made from. The id is random: the progress
    address names no municipality and cannot be guessed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("種類", max_length=64)
    subject = models.CharField("対象", max_length=255)
    version = models.CharField("データの版", max_length=255)
    label = models.CharField("表示名", max_length=255, blank=True)
    params = models.JSONField("入力", default=dict, blank=True)
    status = models.CharField("状態", max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField("進み具合（%）", default=0)
    message = models.CharField("状況", max_length=500, blank=True)
    filename = models.CharField("ファイル名", max_length=255, blank=True)
    content_type = models.CharField("ファイルの種類", max_length=128, blank=True)
    result_path = models.CharField("結果のファイル", max_length=255, blank=True)
    task_result_id = models.CharField("キューの番号", max_length=64, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="依頼した人", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("依頼", auto_now_add=True)
    started_at = models.DateTimeField("開始", null=True, blank=True)
    finished_at = models.DateTimeField("終了", null=True, blank=True)

    class Meta:
        verbose_name = "時間のかかる処理"
        verbose_name_plural = "時間のかかる処理"
        constraints = [models.UniqueConstraint(fields=["kind", "subject", "version"], name="job_key_unique")]
        indexes = [models.Index(fields=["kind", "subject"])]

    def __str__(self) -> str:
        return f"{self.label or self.kind}（{self.get_status_display()}）"

    @property
    def shows_page(self) -> bool:
        """The job computes a value a page shows (service.VALUE), not a file to download."""
        return self.content_type == "application/x-gunmane-value"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
