"""Errors of the effects engine (効果試算): a stable code and a message in Japanese and English."""

from __future__ import annotations

__all__ = ["EffectsError", "InvalidInput", "UnknownParameter"]


class EffectsError(Exception):
    """Base error; ``code`` is stable (snake_case), ``message_ja`` is shown to users, ``message_en`` with GUNMANE_LANG=en."""

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


class InvalidInput(EffectsError):
    """An input value is out of range or inconsistent (negative count, probability outside [0, 1] …)."""


class UnknownParameter(EffectsError):
    """A parameter override names no declared parameter."""
