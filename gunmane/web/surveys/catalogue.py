"""Questionnaire templates (アンケートのひな形) declared as data in gunmane/data/surveys/*.toml.

A template is turned into a concrete questionnaire for one group by `build()`: the text placeholders
{group} {sectors} {works} are filled in, the choice/row macros "@sectors" "@works" "@members" expand
to the group's sectors, work kinds and member municipalities, items tagged with `sectors`/`works`
are kept only when the group covers them, and a question left without choices (or whose condition
can no longer be met) is dropped together with the questions that depend on it.  Pure Python — the
views persist the result (gunmane.web.surveys.services).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from gunmane.io.shipped.vocab import sectors as vocab_sectors

QUESTION_KINDS = ("single", "multiple", "scale", "number", "text", "matrix")
CHOICE_KINDS = ("single", "multiple")
CONDITION_SOURCE_KINDS = ("single", "multiple", "scale")
DEFAULT_SCALE = ("そう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "そう思う")
MACROS = ("@sectors", "@works", "@members")


class TemplateError(ValueError):
    """A template file is malformed (a packaging error: caught by the test suite)."""


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


def _read(name: str) -> dict[str, Any]:
    text = resources.files("gunmane.data").joinpath("surveys", name).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{name}: {exc}") from exc


@functools.cache
def work_kinds() -> tuple[WorkKind, ...]:
    return tuple(WorkKind(w["code"], w["name"]) for w in _read("work_kinds.toml")["work_kinds"])


def work_kind_names() -> dict[str, str]:
    return {w.code: w.name for w in work_kinds()}


def sector_names() -> dict[str, str]:
    return {s.code: s.name for s in sorted(vocab_sectors(), key=lambda s: s.order)}


def _items(raw: Any, where: str) -> tuple[Item, ...]:
    out = []
    for entry in raw or ():
        if isinstance(entry, str):
            out.append(Item(entry))
        elif isinstance(entry, dict) and isinstance(entry.get("text"), str):
            out.append(Item(entry["text"], tuple(entry.get("sectors", ())), tuple(entry.get("works", ()))))
        else:
            raise TemplateError(f"{where}: 選択肢は文字列か {{text = …}} で書きます: {entry!r}")
    return tuple(out)


def _question(raw: dict[str, Any], where: str) -> QuestionTemplate:
    kind = raw.get("kind")
    if kind not in QUESTION_KINDS:
        raise TemplateError(f"{where}: kind は {', '.join(QUESTION_KINDS)} のいずれかです（{kind!r}）")
    show_if = None
    if "show_if" in raw:
        cond = raw["show_if"]
        show_if = (str(cond["question"]), tuple(str(v) for v in cond["values"]))
    labels = tuple(raw.get("scale_labels", DEFAULT_SCALE))
    if len(labels) != 5:
        raise TemplateError(f"{where}: scale_labels は5つ必要です")
    return QuestionTemplate(
        key=str(raw["key"]), kind=kind, text=str(raw["text"]), required=bool(raw.get("required", False)),
        help=str(raw.get("help", "")), choices=_items(raw.get("choices"), where), rows=_items(raw.get("rows"), where),
        scale_labels=labels, unit=str(raw.get("unit", "")), min_value=raw.get("min_value"),
        max_value=raw.get("max_value"), max_choices=raw.get("max_choices"), show_if=show_if,
        source=str(raw.get("source", "")),
    )


def _template(name: str) -> SurveyTemplate:
    raw = _read(name)
    questions = tuple(_question(q, f"{name} の設問 {q.get('key')}") for q in raw["questions"])
    seen: set[str] = set()
    kinds: dict[str, str] = {}
    for q in questions:
        if q.key in seen:
            raise TemplateError(f"{name}: 設問キー {q.key} が重複しています")
        if q.show_if and (q.show_if[0] not in seen or kinds[q.show_if[0]] not in CONDITION_SOURCE_KINDS):
            raise TemplateError(f"{name}: 設問 {q.key} の表示条件は、前にある選択式の設問を指してください")
        seen.add(q.key)
        kinds[q.key] = q.kind
    return SurveyTemplate(
        key=str(raw["key"]), audience=str(raw["audience"]), name=str(raw["name"]),
        description=str(raw.get("description", "")), title=str(raw["title"]), intro=str(raw.get("intro", "")),
        name_label=str(raw.get("name_label", "回答者名")), attributes=tuple(raw.get("attributes", ())),
        questions=questions,
    )


TEMPLATE_FILES = ("contractor.toml", "department.toml", "resident.toml")


@functools.cache
def templates() -> dict[str, SurveyTemplate]:
    """The shipped templates by key, in the order shown to users (contractors first)."""
    out = {}
    for name in TEMPLATE_FILES:
        t = _template(name)
        out[t.key] = t
    return out


def _expand(items: tuple[Item, ...], sectors: list[str], works: list[str], members: list[str]) -> list[str]:
    sector_label, work_label = sector_names(), work_kind_names()
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
          members: list[str]) -> BuiltSurvey:
    """The questionnaire for this group: placeholders filled, macros expanded, empty questions dropped."""
    sector_label, work_label = sector_names(), work_kind_names()
    fill = {"group": group_name, "sectors": "・".join(sector_label.get(c, c) for c in sectors) or "—",
            "works": "・".join(work_label.get(c, c) for c in works) or "—"}

    def text(s: str) -> str:
        return s.format(**fill)

    kept: dict[str, BuiltQuestion] = {}
    for q in template.questions:
        choices = [text(c) for c in _expand(q.choices, sectors, works, members)]
        rows = [text(r) for r in _expand(q.rows, sectors, works, members)]
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
