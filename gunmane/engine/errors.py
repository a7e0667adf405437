"""The engine's one error family: a stable code and a message in Japanese and English.

    EngineError
    ├── CostingError          engine/costing (UnknownWorkType, InvalidEdition)
    ├── EffectsError          engine/effects (InvalidInput, UnknownParameter)
    ├── DeteriorationError    engine/deterioration (InvalidPairs, NotIdentifiable)
    └── LccError              engine/lcc, also raised by engine/planning

Every member has ``code``, ``message_ja`` (what a user reads: a web view can show it as is), ``message_en``,
``message(lang)`` and ``as_json(lang)``. The CLI turns the whole family into exit 1 (gunmane.cli.errors);
the file errors of gunmane.io form the other family (gunmane.io.errors).
"""

from __future__ import annotations

__all__ = ["EngineError"]


class EngineError(Exception):
    """``code`` is stable (snake_case), ``message_ja`` is shown to users, ``message_en`` with GUNMANE_LANG=en;
    ``field`` names the input (parameter, column, key) the error is about, when there is one."""

    def __init__(self, code: str, message_ja: str, message_en: str, *, field: str | None = None) -> None:
        super().__init__(code, message_ja, message_en)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en
        self.field = field

    def __str__(self) -> str:
        return f"{self.message_ja} ({self.code})"

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang == "en" else self.message_ja

    def as_json(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message(lang), "field": self.field}
