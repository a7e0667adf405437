"""Questionnaires (アンケート) built for one group from a template (ひな形).

A template (read from gunmane/data/surveys/*.toml by gunmane.io.shipped.surveys) is turned into a concrete
questionnaire by `build()`: the text placeholders {group} {sectors} {works} are filled in, the choice/row
macros "@sectors" "@works" "@members" expand to the group's sectors, work kinds and member municipalities,
items tagged with `sectors`/`works` are kept only when the group covers them, and a question left without
choices (or whose condition can no longer be met) is dropped together with the questions that depend on it.
Pure Python — the web app persists the result (gunmane.web.surveys.services).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["CHOICE_KINDS", "CONDITION_SOURCE_KINDS", "DEFAULT_SCALE", "MACROS", "QUESTION_KINDS", "BuiltQuestion",
           "BuiltSurvey", "Item", "QuestionTemplate", "SurveyTemplate", "WorkKind", "build"]

QUESTION_KINDS = ("single", "multiple", "scale", "number", "text", "matrix")
CHOICE_KINDS = ("single", "multiple")
CONDITION_SOURCE_KINDS = ("single", "multiple", "scale")
DEFAULT_SCALE = ("そう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "そう思う")
MACROS = ("@sectors", "@works", "@members")


@dataclass(frozen=True)
class WorkKind:
    code: str
    name: str


@dataclass(frozen=True)
class Item:
    """One choice or matrix row; `sectors`/`works` restrict it to groups that cover them."""

    text: str
    sectors: tuple[str, ...] = ()
    works: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionTemplate:
    key: str
    kind: str
    text: str
    required: bool = False
    help: str = ""
    choices: tuple[Item, ...] = ()
    rows: tuple[Item, ...] = ()
    scale_labels: tuple[str, ...] = DEFAULT_SCALE
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    max_choices: int | None = None
    show_if: tuple[str, tuple[str, ...]] | None = None
    source: str = ""


@dataclass(frozen=True)
class SurveyTemplate:
    key: str
    audience: str
    name: str
    description: str
    title: str
    intro: str
    name_label: str
    attributes: tuple[str, ...]
    questions: tuple[QuestionTemplate, ...]


@dataclass
class BuiltQuestion:
    key: str
    kind: str
    text: str
    required: bool
    help: str = ""
    choices: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    scale_labels: list[str] = field(default_factory=lambda: list(DEFAULT_SCALE))
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    max_choices: int | None = None
    show_if_key: str | None = None
    show_if_values: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class BuiltSurvey:
    title: str
    intro: str
    name_label: str
    attributes: list[str]
    questions: list[BuiltQuestion]


def _expand(items: tuple[Item, ...], sectors: list[str], works: list[str], members: list[str],
            sector_label: Mapping[str, str], work_label: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item.sectors and not set(item.sectors) & set(sectors):
            continue
        if item.works and not set(item.works) & set(works):
            continue
        if item.text == "@sectors":
            out.extend(sector_label.get(c, c) for c in sectors)
        elif item.text == "@works":
            out.extend(work_label.get(c, c) for c in works)
        elif item.text == "@members":
            out.extend(members)
        else:
            out.append(item.text)
    return list(dict.fromkeys(out))  # keep order, drop duplicates


def build(template: SurveyTemplate, *, group_name: str, sectors: list[str], works: list[str],
          members: list[str], sector_names: Mapping[str, str], work_names: Mapping[str, str]) -> BuiltSurvey:
    """The questionnaire for this group: placeholders filled, macros expanded, empty questions dropped.

    ``sector_names`` / ``work_names`` name the codes in ``sectors`` / ``works`` (the shipped vocabularies,
    gunmane.io.shipped.surveys); a code without a name is printed as it is.
    """
    fill = {"group": group_name, "sectors": "・".join(sector_names.get(c, c) for c in sectors) or "—",
            "works": "・".join(work_names.get(c, c) for c in works) or "—"}

    def text(s: str) -> str:
        return s.format(**fill)

    kept: dict[str, BuiltQuestion] = {}
    for q in template.questions:
        choices = [text(c) for c in _expand(q.choices, sectors, works, members, sector_names, work_names)]
        rows = [text(r) for r in _expand(q.rows, sectors, works, members, sector_names, work_names)]
        if q.kind in CHOICE_KINDS and len(choices) < 2 and not (q.kind == "multiple" and len(choices) == 1):
            continue
        if q.kind == "matrix" and not rows:
            continue
        show_key, show_values = None, []
        if q.show_if:
            source = kept.get(q.show_if[0])
            if source is None:
                continue
            options = source.choices if source.kind in CHOICE_KINDS else [str(i) for i in range(1, 6)]
            show_values = [v for v in q.show_if[1] if v in options]
            if not show_values:
                continue
            show_key = source.key
        kept[q.key] = BuiltQuestion(
            key=q.key, kind=q.kind, text=text(q.text), required=q.required, help=q.help, choices=choices,
            rows=rows, scale_labels=list(q.scale_labels), unit=q.unit, min_value=q.min_value,
            max_value=q.max_value, max_choices=q.max_choices, show_if_key=show_key, show_if_values=show_values,
            source=q.source)
    return BuiltSurvey(title=text(template.title), intro=text(template.intro), name_label=template.name_label,
                       attributes=list(template.attributes), questions=list(kept.values()))
