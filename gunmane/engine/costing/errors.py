"""Errors of the costing engine (積算): a stable code and a message in Japanese and English."""

from __future__ import annotations

__all__ = ["CostingError", "InvalidEdition", "UnknownWorkType"]


class CostingError(Exception):
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


class UnknownWorkType(CostingError):
    """The work type (工種区分) or service is not in the edition; the message lists the known ones."""


class InvalidEdition(CostingError):
    """An edition's tables are incomplete or inconsistent (missing column, band limits reversed …)."""
