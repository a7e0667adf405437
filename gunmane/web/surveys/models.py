"""アンケート調査 (surveys): a group's questionnaire, its questions, its recipients and their answers.

A survey belongs to a 群 (Group).  Respondents never log in: each recipient has an unguessable
token (secrets.token_urlsafe) that opens only their own form.  Answers are kept as one JSON object
per response, keyed by question key — a survey has tens of questions and at most a few thousand
respondents, and the whole answer is saved at once (draft or submitted), so one row per response
keeps every save atomic and the aggregation simple.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from gunmane.web.groups.models import Group

TOKEN_BYTES = 24  # 32 URL-safe characters


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class Audience(models.TextChoices):
    CONTRACTOR = "contractor", "受注者（建設業者等）"
    DEPARTMENT = "department", "構成団体の担当部署"
    RESIDENT = "resident", "住民"
    OTHER = "other", "その他"


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", "準備中"
    OPEN = "open", "回答受付中"
    CLOSED = "closed", "締切"


class QuestionKind(models.TextChoices):
    SINGLE = "single", "単一選択"
    MULTIPLE = "multiple", "複数選択"
    SCALE = "scale", "5段階評価"
    NUMBER = "number", "数値"
    TEXT = "text", "自由記述"
    MATRIX = "matrix", "マトリクス（行×5段階）"


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", "一時保存"
    SUBMITTED = "submitted", "送信済み"


class Survey(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="surveys", verbose_name="群")
    title = models.CharField("調査名", max_length=200)
    audience = models.CharField("対象", max_length=20, choices=Audience.choices, default=Audience.CONTRACTOR)
    template_key = models.CharField("ひな形", max_length=40, blank=True)
    intro = models.TextField("調査の説明（回答者に表示）", blank=True)
    sectors = models.JSONField("対象の分野", default=list, blank=True)
    work_kinds = models.JSONField("対象の業務", default=list, blank=True)
    name_label = models.CharField("回答者名の見出し", max_length=40, default="回答者名")
    attribute_labels = models.JSONField("回答者の属性", default=list, blank=True,
                                        help_text="業種・所在地・従業員規模など、クロス集計に使う属性の見出し")
    status = models.CharField("状態", max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    closes_on = models.DateField("回答期限")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="作成者")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    opened_at = models.DateTimeField("公開日時", null=True, blank=True)
    closed_at = models.DateTimeField("締切日時", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = verbose_name_plural = "アンケート調査"

    def __str__(self) -> str:
        return self.title

    @property
    def organiser_ja(self) -> str:
        """Whom a respondent contacts: the group's lead municipality (the paper questionnaire prints the same)."""
        lead = self.group.accepted_members().filter(role="lead").select_related("municipality").first()
        return f"お問い合わせ先：{lead.municipality.name}（{self.group.name}の幹事団体）" if lead else ""

    @property
    def is_editable(self) -> bool:
        """Questions change only before the survey is opened: answers stay comparable."""
        return self.status == SurveyStatus.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.OPEN

    def status_badge(self) -> str:
        return {SurveyStatus.DRAFT: "badge", SurveyStatus.OPEN: "badge badge--success",
                SurveyStatus.CLOSED: "badge badge--warning"}[SurveyStatus(self.status)]


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions", verbose_name="調査")
    order = models.PositiveIntegerField("順番", default=0)
    key = models.SlugField("設問キー", max_length=40)
    kind = models.CharField("形式", max_length=10, choices=QuestionKind.choices)
    text = models.TextField("設問文", max_length=500)
    help_text = models.CharField("補足説明", max_length=300, blank=True)
    required = models.BooleanField("回答必須", default=False)
    choices = models.JSONField("選択肢", default=list, blank=True)
    rows = models.JSONField("行（マトリクス）", default=list, blank=True)
    scale_labels = models.JSONField("5段階の見出し", default=list, blank=True)
    unit = models.CharField("単位", max_length=20, blank=True)
    min_value = models.FloatField("最小値", null=True, blank=True)
    max_value = models.FloatField("最大値", null=True, blank=True)
    max_choices = models.PositiveSmallIntegerField("選べる数の上限", null=True, blank=True)
    show_if_question = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="dependents", verbose_name="表示条件の設問")
    show_if_values = models.JSONField("表示条件の回答", default=list, blank=True)
    source = models.CharField("出典・根拠", max_length=300, blank=True)

    class Meta:
        ordering = ["survey", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["survey", "key"], name="uniq_survey_question_key")]
        verbose_name = verbose_name_plural = "設問"

    def __str__(self) -> str:
        return f"{self.key}: {self.text[:30]}"

    def options(self) -> list[str]:
        """The answer values a condition can test: choices, or "1"…"5" for a scale."""
        if self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            return list(self.choices)
        if self.kind == QuestionKind.SCALE:
            return [str(i) for i in range(1, 6)]
        return []

    def option_label(self, value: str) -> str:
        if self.kind in (QuestionKind.SCALE, QuestionKind.MATRIX) and value.isdigit() and 1 <= int(value) <= 5:
            labels = self.scale_labels or []
            return f"{value}（{labels[int(value) - 1]}）" if len(labels) == 5 else value
        return value

    def condition_text(self, number: dict[int, int] | None = None) -> str:
        """「問3で「参加しない」と答えた方のみ」 — printed on the form and the paper questionnaire."""
        src = self.show_if_question
        if src is None:
            return ""
        label = f"問{number[src.pk]}" if number and src.pk in number else f"「{src.text[:20]}」"
        values = "」「".join(src.option_label(v) for v in self.show_if_values)
        verb = "を選んだ" if src.kind == QuestionKind.MULTIPLE else "と答えた"
        return f"{label}で「{values}」{verb}方のみお答えください。"

    def is_shown(self, answers: dict[str, Any], shown: set[str]) -> bool:
        """Whether this question applies, given the answers so far and which earlier questions applied."""
        src = self.show_if_question
        if src is None:
            return True
        if src.key not in shown:
            return False
        value = answers.get(src.key)
        if value is None or value == "" or value == []:
            return False
        if isinstance(value, list):
            return bool(set(value) & set(self.show_if_values))
        return str(value) in self.show_if_values


def shown_keys(questions: list[Question], answers: dict[str, Any]) -> set[str]:
    """Keys of the questions that apply to these answers (conditions refer to earlier questions)."""
    shown: set[str] = set()
    for q in questions:
        if q.is_shown(answers, shown):
            shown.add(q.key)
    return shown


class Recipient(models.Model):
    """One respondent and their unique link; the attributes feed the cross-tabulation."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="recipients", verbose_name="調査")
    token = models.CharField("回答用トークン", max_length=64, unique=True, default=new_token, editable=False)
    name = models.CharField("回答者名", max_length=200)
    attributes = models.JSONField("属性", default=list, blank=True)
    expires_on = models.DateField("回答期限")
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        ordering = ["survey", "pk"]
        verbose_name = verbose_name_plural = "回答者"

    def __str__(self) -> str:
        return self.name

    def attribute(self, index: int) -> str:
        return self.attributes[index] if index < len(self.attributes) else ""

    def is_expired(self, today: date | None = None) -> bool:
        return (today or timezone.localdate()) > self.expires_on


class Response(models.Model):
    recipient = models.OneToOneField(Recipient, on_delete=models.CASCADE, related_name="response",
                                     verbose_name="回答者")
    status = models.CharField("状態", max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT)
    answers = models.JSONField("回答", default=dict, blank=True)
    created_at = models.DateTimeField("回答開始", auto_now_add=True)
    updated_at = models.DateTimeField("最終保存", auto_now=True)
    submitted_at = models.DateTimeField("送信日時", null=True, blank=True)

    class Meta:
        ordering = ["recipient"]
        verbose_name = verbose_name_plural = "回答"

    def __str__(self) -> str:
        return f"{self.recipient}（{self.get_status_display()}）"
