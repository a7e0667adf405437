"""Editions of the estimation rules (積算基準): the shipped ones under ``gunmane/data/costing/`` and a user's own.

An edition is a folder with ``edition.toml`` (its label and service ratios) and ``works.csv`` (the
overhead coefficients of each work type, each row with its source); see gunmane/data/costing/README.md.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

from gunmane.engine.costing import CostingEdition, InvalidEdition, edition_from_tables

__all__ = ["COSTING_DATA_DIR", "DEFAULT_EDITION", "costing_editions", "load_costing_edition"]

COSTING_DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "costing"
DEFAULT_EDITION = "FY2022"


def costing_editions() -> list[str]:
    """Ids of the editions shipped with gunmane (folder names), oldest first."""
    return sorted(p.name for p in COSTING_DATA_DIR.iterdir() if (p / "edition.toml").is_file())


def load_costing_edition(edition: str | Path | None = None) -> CostingEdition:
    """An edition by shipped id (``FY2022``) or by folder path (a user's newer edition); default the latest shipped."""
    name = str(edition) if edition is not None else DEFAULT_EDITION
    folder = COSTING_DATA_DIR / name
    if not (folder / "edition.toml").is_file():
        folder = Path(name)
    meta_path, works_path = folder / "edition.toml", folder / "works.csv"
    if not meta_path.is_file() or not works_path.is_file():
        raise InvalidEdition("edition_not_found",
                             f"積算基準の版「{name}」が見つかりません。同梱の版（{'、'.join(costing_editions())}）か、"
                             "edition.toml と works.csv のあるフォルダを指定してください。",
                             f"Costing edition '{name}' not found: give a shipped id ({', '.join(costing_editions())}) "
                             "or a folder with edition.toml and works.csv.", field="edition")
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidEdition("invalid_toml", f"{meta_path}: TOML として読めません（{type(exc).__name__}）。",
                             f"{meta_path}: not valid TOML ({exc}).") from exc
    try:
        with open(works_path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidEdition("invalid_csv", f"{works_path}: UTF-8 の CSV として読めません（{type(exc).__name__}）。",
                             f"{works_path}: not a UTF-8 CSV ({exc}).") from exc
    return edition_from_tables(meta, rows, path=str(folder), file_label=str(works_path.name))
