"""What the survey views do besides rendering: who may see a group's surveys, building a survey from a
template, registering recipients, and counting the answers (単純集計・クロス集計).

Access rule (issue #6 §3): the group workspace's rule (gunmane.web.groups.permissions), so surveys and the
rest of the workspace never disagree: whoever may read the ledger of a member sees the group's surveys and
results; creating, editing, opening/closing and adding recipients needs editor rights in a (non-observer)
member municipality.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from gunmane.engine.surveys import DEFAULT_SCALE, build
from gunmane.io.reports.survey_export import CountRow, LinkRow, QuestionSpec, RespondentRow, SurveySpec
from gunmane.io.shipped import surveys as survey_templates
from gunmane.web.accounts.permissions import AnyUser
from gunmane.web.groups import permissions
from gunmane.web.groups.models import Group, GroupSettings
from gunmane.web.registry.models import Facility, MunicipalityKind
from gunmane.web.surveys.forms import RecipientRow
from gunmane.web.surveys.models import (
    Question,
    QuestionKind,
    Recipient,
    Response,
    ResponseStatus,
    Survey,
    shown_keys,
)

# ------------------------------------------------------------------------------ access


def can_view_group(user: AnyUser, group: Group) -> bool:
    """The group workspace's rule (members, their prefecture, administrators): one authority for both apps."""
    return permissions.can_view_group(user, group)


def can_edit_group(user: AnyUser, group: Group) -> bool:
    return permissions.can_edit_group(user, group)


def require_view(user: AnyUser, group: Group) -> None:
    if not can_view_group(user, group):
        raise PermissionDenied(f"「{group.name}」のアンケートを閲覧する権限がありません（構成団体の職員のみ）。")


def require_edit(user: AnyUser, group: Group) -> None:
    if not can_edit_group(user, group):
        raise PermissionDenied(f"「{group.name}」のアンケートを作成・編集する権限がありません"
                               "（構成団体の編集者のみ）。")


def visible_groups(user: AnyUser) -> list[Group]:
    return permissions.visible_groups(user)


# ------------------------------------------------------------------------------ building


def group_sector_codes(group: Group) -> list[str]:
    """Sectors of the members' facilities, in vocabulary order (the default ticks of the create form)."""
    codes = set(Facility.objects.filter(manager_id__in=group.accepted_members().values("municipality_id")).values_list("sector__code", flat=True))
    return [c for c in survey_templates.sector_names() if c in codes]


#: the group's 対象業務 (gunmane/data/groups/tasks.json work_kinds) → the survey's work kinds
#: (gunmane/data/surveys/work_kinds.toml): what a contractor is asked about follows what the group bundles
GROUP_WORK_TO_SURVEY = {"inspection": ("inspection", "diagnosis"), "design": ("design",), "works": ("repair",),
                        "routine": ("patrol", "repair", "cleaning", "weeding"), "snow": ("snow",), "renewal": ("repair",)}
#: when the group has not decided its work yet: the everyday maintenance a comprehensive contract starts with
DEFAULT_SURVEY_WORKS = ("patrol", "repair", "cleaning", "weeding")


def group_defaults(group: Group) -> tuple[list[str], list[str]]:
    """The create form's ticks: the sectors and work the group decided (its 設定), else what its ledger holds."""
    settings = GroupSettings.objects.filter(group=group).first()
    known_sectors = survey_templates.sector_names()
    sectors = [c for c in known_sectors if settings and c in (settings.sectors or [])] or group_sector_codes(group)
    wanted = {w for k in (settings.work_kinds if settings else []) or [] for w in GROUP_WORK_TO_SURVEY.get(k, ())}
    works = [w.code for w in survey_templates.work_kinds() if w.code in wanted] or list(DEFAULT_SURVEY_WORKS)
    return sectors, works


def member_municipality_names(group: Group) -> list[str]:
    """Members that are municipalities (the areas a contractor can serve); prefectures left out."""
    members = group.accepted_members().select_related("municipality").exclude(municipality__kind=MunicipalityKind.PREFECTURE)
    return [m.municipality.name for m in members.exclude(role="observer")]


@transaction.atomic
def create_from_template(group: Group, *, template_key: str, sectors: list[str], works: list[str],
                         closes_on: date, title: str = "", user: Any = None) -> Survey:
    template = survey_templates.templates()[template_key]
    built = build(template, group_name=group.name, sectors=sectors, works=works,
                  members=member_municipality_names(group), sector_names=survey_templates.sector_names(),
                  work_names=survey_templates.work_kind_names())
    survey = Survey.objects.create(
        group=group, title=title or built.title, audience=template.audience, template_key=template.key,
        intro=built.intro, sectors=sectors, work_kinds=works, name_label=built.name_label,
        attribute_labels=built.attributes, closes_on=closes_on, created_by=user if user and user.pk else None)
    by_key: dict[str, Question] = {}
    for order, bq in enumerate(built.questions, start=1):
        by_key[bq.key] = Question.objects.create(
            survey=survey, order=order * 10, key=bq.key, kind=bq.kind, text=bq.text, help_text=bq.help,
            required=bq.required, choices=bq.choices, rows=bq.rows,
            scale_labels=bq.scale_labels if bq.kind in ("scale", "matrix") else [], unit=bq.unit,
            min_value=bq.min_value, max_value=bq.max_value, max_choices=bq.max_choices,
            show_if_question=by_key.get(bq.show_if_key) if bq.show_if_key else None,
            show_if_values=bq.show_if_values, source=bq.source[:300])
    return survey


def next_question_key(survey: Survey) -> str:
    existing = set(survey.questions.values_list("key", flat=True))
    n = survey.questions.count() + 1
    while f"q{n}" in existing:
        n += 1
    return f"q{n}"


@transaction.atomic
def add_recipients(survey: Survey, rows: Iterable[RecipientRow], expires_on: date) -> list[Recipient]:
    """All rows or none (the form has already refused any bad line)."""
    return Recipient.objects.bulk_create(
        [Recipient(survey=survey, name=r.name, attributes=r.attributes, expires_on=expires_on) for r in rows])


def renumber(survey: Survey) -> None:
    for i, q in enumerate(survey.questions.order_by("order", "pk"), start=1):
        if q.order != i * 10:
            Question.objects.filter(pk=q.pk).update(order=i * 10)


# ------------------------------------------------------------------------------ specs for io


def questions_of(survey: Survey) -> list[Question]:
    return list(survey.questions.select_related("show_if_question").order_by("order", "pk"))


def numbering(questions: list[Question]) -> dict[int, int]:
    return {q.pk: i for i, q in enumerate(questions, start=1)}


def survey_spec(survey: Survey, questions: list[Question] | None = None) -> SurveySpec:
    questions = questions if questions is not None else questions_of(survey)
    number = numbering(questions)
    organiser = survey.organiser_ja
    return SurveySpec(
        title=survey.title, group=survey.group.name, name_label=survey.name_label,
        attribute_labels=tuple(survey.attribute_labels), intro=survey.intro, closes_on=survey.closes_on,
        organiser=organiser,
        questions=tuple(QuestionSpec(
            number=number[q.pk], key=q.key, kind=q.kind, text=q.text, choices=tuple(q.choices), rows=tuple(q.rows),
            scale_labels=tuple(q.scale_labels or DEFAULT_SCALE), required=q.required, unit=q.unit,
            condition=q.condition_text(number), help=q.help_text, max_choices=q.max_choices) for q in questions))


def respondent_rows(survey: Survey, *, submitted_only: bool = False) -> list[RespondentRow]:
    out = []
    for r in survey.recipients.select_related("response").order_by("pk"):
        resp: Response | None = getattr(r, "response", None)
        if submitted_only and (resp is None or resp.status != ResponseStatus.SUBMITTED):
            continue
        status = resp.get_status_display() if resp else "未回答"
        out.append(RespondentRow(name=r.name, attributes=tuple(r.attributes), status=status,
                                 submitted_at=resp.submitted_at if resp else None,
                                 answers=resp.answers if resp else {}))
    return out


def link_rows(survey: Survey, base_url: str) -> list[LinkRow]:
    out = []
    for r in survey.recipients.select_related("response").order_by("pk"):
        resp = getattr(r, "response", None)
        out.append(LinkRow(name=r.name, attributes=tuple(r.attributes), url=f"{base_url}{r.token}/",
                           expires_on=r.expires_on, status=resp.get_status_display() if resp else "未回答"))
    return out


# ------------------------------------------------------------------------------ aggregation


@dataclass
class OptionCount:
    label: str
    count: int
    percent: float | None


@dataclass
class MatrixRow:
    label: str
    counts: list[int]
    n: int
    mean: float | None


@dataclass
class TextAnswer:
    name: str
    attributes: list[str]
    text: str


@dataclass
class QuestionResult:
    question: Question
    number: int
    applicable: int  # submitted responses to which the question applied
    answered: int
    options: list[OptionCount] = field(default_factory=list)
    matrix: list[MatrixRow] = field(default_factory=list)
    texts: list[TextAnswer] = field(default_factory=list)
    numbers: dict[str, float | int | None] = field(default_factory=dict)
    mean: float | None = None

    @property
    def chart(self) -> dict[str, Any] | None:
        """What surveys.js draws (Chart.js); the same numbers are in the table under the chart."""
        q = self.question
        if self.options:
            return {"id": q.key, "type": "bar", "labels": [o.label for o in self.options],
                    "values": [o.count for o in self.options]}
        if self.matrix:
            labels = q.scale_labels or list(DEFAULT_SCALE)
            return {"id": q.key, "type": "matrix", "labels": [r.label for r in self.matrix],
                    "levels": [f"{i} {labels[i - 1]}" for i in range(1, 6)],
                    "values": [r.counts for r in self.matrix]}
        return None


def submitted(survey: Survey) -> list[Response]:
    return list(Response.objects.filter(recipient__survey=survey, status=ResponseStatus.SUBMITTED)
                .select_related("recipient").order_by("recipient_id"))


def _pct(count: int, base: int) -> float | None:
    return round(100 * count / base, 1) if base else None


def aggregate(survey: Survey, questions: list[Question] | None = None,
              responses: list[Response] | None = None) -> list[QuestionResult]:
    """単純集計 of the submitted responses: counts and % per option (base: who answered), means, texts."""
    questions = questions if questions is not None else questions_of(survey)
    responses = responses if responses is not None else submitted(survey)
    shown = [shown_keys(questions, r.answers) for r in responses]
    results = []
    for number, q in enumerate(questions, start=1):
        values = [(r, r.answers.get(q.key)) for r, s in zip(responses, shown, strict=True) if q.key in s]
        answered = [(r, v) for r, v in values if v not in (None, "", [], {})]
        res = QuestionResult(question=q, number=number, applicable=len(values), answered=len(answered))
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counter: Counter[str] = Counter()
            for _, v in answered:
                counter.update(v if isinstance(v, list) else [v])
            res.options = [OptionCount(c, counter[c], _pct(counter[c], len(answered))) for c in q.choices]
        elif q.kind == QuestionKind.SCALE:
            counter_i: Counter[int] = Counter(int(v) for _, v in answered)
            labels = q.scale_labels or list(DEFAULT_SCALE)
            res.options = [OptionCount(f"{i} {labels[i - 1]}", counter_i[i], _pct(counter_i[i], len(answered)))
                           for i in range(1, 6)]
            res.mean = statistics.fmean(int(v) for _, v in answered) if answered else None
        elif q.kind == QuestionKind.MATRIX:
            for row in q.rows:
                scores = [int(v[row]) for _, v in answered if isinstance(v, dict) and row in v]
                c = Counter(scores)
                res.matrix.append(MatrixRow(row, [c[i] for i in range(1, 6)], len(scores),
                                            statistics.fmean(scores) if scores else None))
        elif q.kind == QuestionKind.NUMBER:
            nums = [float(v) for _, v in answered]
            res.numbers = {"n": len(nums), "sum": sum(nums) if nums else None,
                           "mean": statistics.fmean(nums) if nums else None,
                           "median": statistics.median(nums) if nums else None,
                           "min": min(nums) if nums else None, "max": max(nums) if nums else None}
        else:
            res.texts = [TextAnswer(r.recipient.name, list(r.recipient.attributes), str(v)) for r, v in answered]
        results.append(res)
    return results


def count_rows(results: list[QuestionResult]) -> list[CountRow]:
    """The 単純集計 as flat rows for the XLSX export."""
    out = []
    for res in results:
        q = res.question
        for o in res.options:
            out.append(CountRow(res.number, q.text, o.label, o.count, res.answered))
        for row in res.matrix:
            for i, n in enumerate(row.counts, start=1):
                out.append(CountRow(res.number, q.text, f"{row.label}：{i}", n, row.n,
                                    row.mean if i == 1 else None))
        if q.kind == QuestionKind.NUMBER and res.numbers.get("n"):
            out.append(CountRow(res.number, q.text, f"平均（{q.unit or '数値'}）", int(res.numbers["n"] or 0),
                                res.answered, res.numbers["mean"]))
        if q.kind == QuestionKind.TEXT:
            out.append(CountRow(res.number, q.text, "記入あり", res.answered, res.applicable))
    return out


@dataclass
class Crosstab:
    question: Question
    by_label: str
    columns: list[str]
    rows: list[tuple[str, list[int], int]]  # (attribute value, counts per column, respondents)
    totals: list[int]
    total_n: int


def crosstab_choices(survey: Survey) -> list[tuple[str, str]]:
    return [("name", survey.name_label)] + [(f"a{i}", label) for i, label in enumerate(survey.attribute_labels)]


def crosstab(survey: Survey, question: Question, by: str, responses: list[Response] | None = None,
             questions: list[Question] | None = None) -> Crosstab | None:
    """Counts of a choice/scale question by a respondent attribute (クロス集計); None if not applicable."""
    if question.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.SCALE):
        return None
    labels = dict(crosstab_choices(survey))
    if by not in labels:
        return None
    questions = questions if questions is not None else questions_of(survey)
    responses = responses if responses is not None else submitted(survey)
    if question.kind == QuestionKind.SCALE:
        scale = question.scale_labels or list(DEFAULT_SCALE)
        columns = [f"{i} {scale[i - 1]}" for i in range(1, 6)]
        keys: list[Any] = list(range(1, 6))
    else:
        columns = list(question.choices)
        keys = list(question.choices)
    groups: dict[str, tuple[Counter[Any], list[int]]] = {}
    for r in responses:
        if question.key not in shown_keys(questions, r.answers):
            continue
        v = r.answers.get(question.key)
        if v in (None, "", []):
            continue
        group = r.recipient.name if by == "name" else r.recipient.attribute(int(by[1:]))
        group = group or "（未記入）"
        counter, n = groups.setdefault(group, (Counter(), [0]))
        counter.update(v if isinstance(v, list) else [v])
        n[0] += 1
    rows = [(g, [c[k] for k in keys], n[0]) for g, (c, n) in sorted(groups.items())]
    totals = [sum(r[1][i] for r in rows) for i in range(len(keys))]
    return Crosstab(question, labels[by], columns, rows, totals, sum(r[2] for r in rows))
