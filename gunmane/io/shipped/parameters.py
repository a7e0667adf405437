"""Read parameter tables: one CSV format for every sourced default (effects, LCC, planning).

Every table has the same columns, one parameter a row:

| column | content |
| --- | --- |
| ``key`` | the id a scenario or the CLI overrides it by (``hazard.I``, ``discount_rate`` …) |
| ``value`` | a number (``5``, ``0.0908``; ``1,000,000`` is read as 1000000), a text (a choice such as a work type), or a JSON array of number pairs (``[[1000000, 0.25], …]``, a curve) |
| ``unit`` | the unit; ``-`` for a choice that has none (never blank) |
| ``label_ja`` | what the value is, in Japanese |
| ``source`` | where the value comes from, or 「仮定値 — 利用者が設定してください」 |
| ``status`` | ``official`` / ``published`` / ``derived`` / ``assumption`` / ``user`` (see gunmane.engine.parameters) |
| ``description`` | notes (may be blank) |

An integer literal stays an integer and a decimal stays a float (the results show them as written).
A value that starts like a number must be one; tables whose values are all numbers (LCC) ask for floats.
Errors name the file, the row and the column in Japanese (:class:`ParameterFileError`).

The same reader (:func:`read_csv_rows`) reads the structured tables that are not one parameter a row
(``gunmane/data/lcc/actions.csv``), so every shipped CSV is decoded and checked the same way.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from gunmane.engine.effects.parameters import ParameterSet
from gunmane.engine.parameters import STATUSES, Parameter
from gunmane.io.errors import IoFileError

__all__ = ["COLUMNS", "NO_UNIT", "ParameterFileError", "ShareRule", "effects_defaults", "effects_parameters",
           "parse_parameter_table", "read_csv_rows", "read_parameter_table", "share_rules", "shipped_parameter_table"]

COLUMNS = ("key", "value", "unit", "label_ja", "source", "status", "description")
NO_UNIT = "-"
EFFECTS_TABLES = ("parameters.csv", "unit_costs.csv")

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


class ParameterFileError(IoFileError, ValueError):
    """A parameter table is unreadable or has an invalid cell; ``message_ja`` names file, row and column.

    One of the io error family (its ``code`` is the class name, as the CLI has always reported it); still a
    ValueError as it always was.
    """

    def __init__(self, message_ja: str, *, file: str = "", row: int | None = None, column: str | None = None) -> None:
        super().__init__(type(self).__name__, message_ja, file=file or None, row=row, column=column)


def _decode(raw: bytes, label: str, error: type[ParameterFileError]) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise error(f"{label}: 文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）。", file=label)


def read_csv_rows(raw: bytes, label: str, columns: Iterable[str], *,
                  error: type[ParameterFileError] = ParameterFileError) -> list[tuple[int, dict[str, str]]]:
    """(row number, cells) of a CSV that must have ``columns``; cells stripped, row numbers as Excel shows them."""
    reader = csv.DictReader(io.StringIO(_decode(raw, label, error)))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise error(f"{label}: 列 {', '.join(missing)} がありません。", file=label, column=missing[0])
    out = []
    for i, row in enumerate(reader, start=2):
        if row.get(None):  # more cells than headers: an unquoted comma
            raise error(f"{label} {i}行目: 列の数が見出しより多くあります（値に「,」を含むときは \"\" で囲んでください）："
                        f"「{'、'.join(row[None])}」", file=label, row=i)
        out.append((i, {k: (v or "").strip() for k, v in row.items() if k}))
    return out


def _pairs(value: Any) -> Any:
    """A JSON array of numbers (nested) as tuples; None if it holds anything else."""
    if isinstance(value, list):
        items = [_pairs(v) for v in value]
        return None if any(v is None for v in items) else tuple(items)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _value(text: str, where: str, *, floats: bool, label: str, row: int,
           error: type[ParameterFileError]) -> Any:
    t = text.replace(",", "") if _GROUPED.fullmatch(text) else text
    if floats or (t[:1] in "0123456789+-." and not _FLOAT.fullmatch(t)):
        if _FLOAT.fullmatch(t):
            return float(t)
        raise error(f"{where}: 「{text}」は数値ではありません。", file=label, row=row, column="value")
    if _INT.fullmatch(t):
        return int(t)
    if _FLOAT.fullmatch(t):
        return float(t)
    if t.startswith("["):
        try:
            pairs = _pairs(json.loads(t))
        except json.JSONDecodeError:
            pairs = None
        if pairs is None:
            raise error(f"{where}: 「{text}」は数値の組の JSON 配列（例 [[1000000, 0.25], [5000000, 0.15]]）として"
                        "読めません。", file=label, row=row, column="value")
        return pairs
    return t


def parse_parameter_table(raw: bytes, label: str, *, floats: bool = False,
                          error: type[ParameterFileError] = ParameterFileError) -> tuple[Parameter, ...]:
    """The parameters of one table (bytes of the CSV; ``label`` names it in messages).

    ``floats``: every value must be a number and is read as a float (the LCC tables)."""
    params: list[Parameter] = []
    seen: dict[str, int] = {}
    for row, r in read_csv_rows(raw, label, COLUMNS, error=error):
        for column in ("key", "value", "unit", "label_ja", "source", "status"):
            if not r[column]:
                hint = "（単位のない選択肢は「-」と書きます）" if column == "unit" else ""
                raise error(f"{label} {row}行目「{column}」: 空欄です{hint}。", file=label, row=row, column=column)
        key = r["key"]
        if key in seen:
            raise error(f"{label} {row}行目「key」: 「{key}」は {seen[key]}行目にもあります。", file=label, row=row,
                        column="key")
        seen[key] = row
        if r["status"] not in STATUSES:
            raise error(f"{label} {row}行目「status」: 「{r['status']}」は {'・'.join(STATUSES)} のいずれかにしてください。",
                        file=label, row=row, column="status")
        value = _value(r["value"], f"{label} {row}行目「value」", floats=floats, label=label, row=row, error=error)
        params.append(Parameter(key=key, value=value, unit="" if r["unit"] == NO_UNIT else r["unit"],
                                label_ja=r["label_ja"], source=r["source"], status=r["status"],
                                description=r["description"]))
    return tuple(params)


def read_parameter_table(path: Path, *, floats: bool = False,
                         error: type[ParameterFileError] = ParameterFileError) -> tuple[Parameter, ...]:
    """A user's copy of a table (``gunmane lcc --params DIR``)."""
    if not path.is_file():
        raise error(f"{path}: ファイルがありません（{', '.join(COLUMNS)} の列を持つ CSV が必要です）。", file=str(path))
    return parse_parameter_table(path.read_bytes(), str(path), floats=floats, error=error)


def shipped_bytes(folder: str, name: str) -> bytes:
    """A file shipped under ``gunmane/data/<folder>/``."""
    return resources.files("gunmane.data").joinpath(folder, name).read_bytes()


def shipped_parameter_table(folder: str, name: str, *, floats: bool = False,
                            error: type[ParameterFileError] = ParameterFileError) -> tuple[Parameter, ...]:
    """A table shipped under ``gunmane/data/<folder>/``."""
    return parse_parameter_table(shipped_bytes(folder, name), f"gunmane/data/{folder}/{name}", floats=floats,
                                 error=error)


@functools.cache
def effects_defaults() -> tuple[Parameter, ...]:
    """Every default of the effects engine: ``gunmane/data/effects/parameters.csv`` then ``unit_costs.csv``."""
    params = tuple(p for name in EFFECTS_TABLES for p in shipped_parameter_table("effects", name))
    # the share rule is shown by its name (施設数割), not its key (facility_count)
    rule_names = tuple((r.key, r.name_ja) for r in share_rules())
    params = tuple(replace(p, choices_ja=rule_names) if p.key == "share.rule" else p for p in params)
    keys = [p.key for p in params]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise ParameterFileError(f"gunmane/data/effects: key {', '.join(twice)} が複数の表にあります。",
                                 file="gunmane/data/effects", column="key")
    return params


def effects_parameters() -> ParameterSet:
    """The ParameterSet of the shipped defaults, to pass to the effects engine (overrides on top)."""
    return ParameterSet(effects_defaults())


# -- cost-share rules (data: gunmane/data/effects/share_rules.csv) ------------------------------------------------
@dataclass(frozen=True)
class ShareRule:
    """A cost-share rule groups use (施設数割, 人口割 …): its key (``cost_share`` in the scenario file, the
    engine's ``share.rule``), Japanese name, one-line explanation and source."""

    key: str
    name_ja: str
    explanation_ja: str
    source: str

    @property
    def uses_equal_part(self) -> bool:
        return self.key in ("equal_facility", "equal_usage")


@functools.cache
def share_rules() -> tuple[ShareRule, ...]:
    """The cost-share rules, in the order the settings offer them (gunmane/data/effects/share_rules.csv)."""
    raw = resources.files("gunmane.data").joinpath("effects/share_rules.csv").read_bytes()
    rules = []
    for _, r in read_csv_rows(raw, "share_rules.csv", ("key", "name_ja", "explanation_ja", "source")):
        rules.append(ShareRule(r["key"], r["name_ja"], r["explanation_ja"], r["source"]))
    return tuple(rules)
