"""Read the questionnaire templates (アンケートのひな形, gunmane/data/surveys/*.toml) into engine objects.

The format is described in gunmane/data/surveys/README.md; a malformed file is a packaging error
(TemplateError, caught by the test suite).  The templates are turned into one group's questionnaire by
gunmane.engine.surveys.build(), with the names from `sector_names()` and `work_kind_names()`.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

from gunmane.engine.surveys import (
    CONDITION_SOURCE_KINDS,
    DEFAULT_SCALE,
    QUESTION_KINDS,
    Item,
    QuestionTemplate,
    SurveyTemplate,
    WorkKind,
)
from gunmane.io.errors import IoFileError
from gunmane.io.shipped.vocab import sectors as vocab_sectors

__all__ = ["TEMPLATE_FILES", "TemplateError", "sector_names", "templates", "work_kind_names", "work_kinds"]

TEMPLATE_FILES = ("contractor.toml", "department.toml", "resident.toml")


class TemplateError(IoFileError, ValueError):
    """A shipped survey template (gunmane/data/surveys/*.toml) is malformed; the message names the file."""

    def __init__(self, message_ja: str) -> None:
        super().__init__("invalid_survey_template", message_ja)


def _read(name: str) -> dict[str, Any]:
    text = resources.files("gunmane.data").joinpath("surveys", name).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{name}: {exc}") from exc


@functools.cache
def work_kinds() -> tuple[WorkKind, ...]:
    """The 「対象の業務」 vocabulary (work_kinds.toml), in file order."""
    return tuple(WorkKind(w["code"], w["name"]) for w in _read("work_kinds.toml")["work_kinds"])


def work_kind_names() -> dict[str, str]:
    return {w.code: w.name for w in work_kinds()}


def sector_names() -> dict[str, str]:
    """Sector code → name, in vocabulary order (gunmane/data/vocab/sectors.csv)."""
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


@functools.cache
def templates() -> dict[str, SurveyTemplate]:
    """The shipped templates by key, in the order shown to users (contractors first)."""
    out = {}
    for name in TEMPLATE_FILES:
        t = _template(name)
        out[t.key] = t
    return out
