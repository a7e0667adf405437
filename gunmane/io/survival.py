"""Read a file of assets' install and renewal years (施設の設置・更新年度) for the service-life model.

Columns (Japanese or English headers; order free; CSV in UTF-8/CP932 or XLSX):

| key | 見出し（例） | 内容 |
| --- | --- | --- |
| asset_id | 施設ID・管路ID・管理番号 | the asset (one row per service life; successive lives may share an id) |
| install_year | 設置年度・布設年度・建設年度 | 1975, 1975年度, 昭和50年度, S50, 2023/7/1 (its fiscal year); 「不明」 or blank: left out of the fit, counted |
| renewal_year | 更新年度・布設替え年度 | blank = still in service; 「不明」 = renewed in an unknown year: left out, counted |
| removal_year | 撤去年度・廃止年度 | the same as 更新年度 (a file may have either or both; the earlier ends the life) |
| observed_until | 観測終了年度 | optional: the last fiscal year the records cover (default: this fiscal year, or ``observed_until``) |
| observed_from | 記録開始年度 | optional: the first fiscal year of the records, when they begin after installation (left truncation) |

Years are read by the ledger's own parser (gunmane.io.values.parsing.parse_year: 和暦, 「不明」, Excel dates).
All-or-nothing: any cell that is not a year raises :class:`AssetsFileError` listing every problem with its row
(as Excel numbers it), column (as written in the file), value and what was expected. Records that are years but
cannot enter the model (renewed before installed, installed after the end of observation …) are not file errors:
the engine leaves them out and counts them (gunmane.engine.survival.EXCLUSION_REASONS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from gunmane.engine.calendar import fiscal_year
from gunmane.engine.survival.data import ServiceLives
from gunmane.io.errors import IoFileError
from gunmane.io.issues import Issue
from gunmane.io.ledger.schema import compact_header
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.values import parsing as values

__all__ = ["ASSET_HEADERS", "AssetsFile", "AssetsFileError", "read_assets"]

ASSET_HEADERS: dict[str, tuple[str, ...]] = {
    "asset_id": ("施設ID", "施設番号", "管路ID", "管路番号", "管理番号", "資産番号", "施設コード", "asset_id", "asset",
                 "facility_id"),
    "install_year": ("設置年度", "布設年度", "敷設年度", "建設年度", "架設年度", "竣工年度", "取得年度", "供用開始年度",
                     "設置年", "布設年", "install_year", "installed"),
    "renewal_year": ("更新年度", "布設替え年度", "布設替年度", "改築年度", "更新年", "renewal_year", "renewed"),
    "removal_year": ("撤去年度", "廃止年度", "撤去年", "removal_year", "removed"),
    "observed_until": ("観測終了年度", "観測終了", "確認年度", "observed_until"),
    "observed_from": ("記録開始年度", "観測開始年度", "記録開始", "observed_from"),
}
LABELS_JA = {"asset_id": "施設ID", "install_year": "設置年度", "renewal_year": "更新年度", "removal_year": "撤去年度",
             "observed_until": "観測終了年度", "observed_from": "記録開始年度"}
YEAR_KEYS = ("install_year", "renewal_year", "removal_year", "observed_until", "observed_from")
UNKNOWN_HINT = "分からない年度は「不明」と入れてください（その施設は推定から外し、外した件数を示します）。"
MAX_ISSUES = 200

_INDEX = {compact_header(alias): key for key, aliases in ASSET_HEADERS.items() for alias in aliases}


def _match(text: str) -> str | None:
    return _INDEX.get(compact_header(text))


class AssetsFileError(IoFileError):
    """The assets file cannot be used; ``issues`` say where and why (row 0 = the file itself); the message lists
    the first 20; ``file`` is the file as shown to the user."""

    def __init__(self, issues: Sequence[Issue], display_name: str) -> None:
        self.issues = list(issues)
        first = self.issues[0] if self.issues else None
        ja = [f"{display_name}: 施設の設置・更新年度のファイルに{len(self.issues)}件の誤りがあります（推定は行いません）。"]
        ja += [f"- {i}" for i in self.issues[:20]]
        en = [f"{display_name}: {len(self.issues)} error(s) in the assets file (nothing fitted)."]
        en += [f"- row {i.row}, column {i.column!r}, value {i.value!r}: {i.message_en}" for i in self.issues[:20]]
        super().__init__(first.code if first else "invalid_file", "\n".join(ja), "\n".join(en), file=display_name,
                         row=first.row if first and first.row else None, column=first.column if first else None,
                         value=first.value if first else None)


@dataclass(frozen=True)
class AssetsFile:
    lives: ServiceLives
    observed_until: int  # the default end of observation used for rows without their own
    warnings: list[Issue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # key → header as written


def _header_issues(keys: dict[str, Any], header_row: int) -> list[Issue]:
    issues = []
    for key in ("asset_id", "install_year"):
        if key not in keys:
            aliases = "・".join(ASSET_HEADERS[key][:3])
            issues.append(Issue(header_row, LABELS_JA[key], "", "missing_column",
                                f"必須の列「{LABELS_JA[key]}」が見つかりません（見出しの例: {aliases}）。",
                                f"Required column '{key}' not found (e.g. {', '.join(ASSET_HEADERS[key][-2:])})."))
    if "renewal_year" not in keys and "removal_year" not in keys:
        issues.append(Issue(header_row, "更新年度", "", "missing_column",
                            "列「更新年度」または「撤去年度」が見つかりません（供用中の施設は空欄にします）。",
                            "Neither a renewal_year nor a removal_year column was found."))
    return issues


def read_assets(path: Path, *, observed_until: int | None = None, records_since: int | None = None,
                today: date | None = None, display_name: str | None = None) -> AssetsFile:
    """Read an assets CSV/XLSX into ServiceLives (nothing excluded yet: the engine counts what it leaves out).

    ``observed_until``: the end of observation for rows without a 観測終了年度 (default: the fiscal year of
    ``today``, which is the date the years are checked against — no year may lie in the future);
    ``records_since``: the first year of the records for rows without a 記録開始年度 (default: none, every life
    observed since its installation).
    """
    today = today or date.today()
    default_until = observed_until if observed_until is not None else fiscal_year(today)
    name = display_name or path.name
    try:
        table = open_table(path, _match, display_name=name)
    except TableError as exc:
        raise AssetsFileError([Issue(0, "", name, exc.code, exc.message_ja, exc.message_en)], name) from exc
    keys = table.keys
    issues = _header_issues(keys, table.header_rows[-1])
    if issues:
        raise AssetsFileError(issues, name)
    ids: list[str] = []
    years: dict[str, list[float]] = {k: [] for k in YEAR_KEYS}
    unknown_renewal: list[bool] = []
    warnings: list[Issue] = []

    try:
        for number, row in table.rows():
            vals, flagged = _row(row, number, keys, today, issues, warnings)
            if len(issues) >= MAX_ISSUES:
                break
            if vals is None:
                continue
            ids.append(str(vals.pop("asset_id")))
            for k in YEAR_KEYS:
                years[k].append(vals.get(k, np.nan))
            unknown_renewal.append(flagged)
    except TableError as exc:  # a row over a limit deep in the file (rows, columns, field length)
        raise AssetsFileError([Issue(exc.row or 0, "", name, exc.code, exc.message_ja, exc.message_en)],
                              name) from exc
    if issues:
        raise AssetsFileError(issues, name)
    if not ids:
        raise AssetsFileError([Issue(0, "", name, "no_rows", "施設の行が1行もありません。", "No asset rows.")], name)
    renewal = np.array(years["renewal_year"], dtype=np.float64)
    removal = np.array(years["removal_year"], dtype=np.float64)
    end = np.fmin(renewal, removal)  # the earlier of the two; NaN only when both are blank
    until = np.array(years["observed_until"], dtype=np.float64)
    until[np.isnan(until)] = default_until
    since = np.array(years["observed_from"], dtype=np.float64)
    if records_since is not None:
        since[np.isnan(since)] = records_since
    lives = ServiceLives(np.array(ids, dtype=object), np.array(years["install_year"], dtype=np.float64), end, until,
                         since, f"assets file {name}",
                         np.array(unknown_renewal, dtype=bool) & np.isnan(end))
    return AssetsFile(lives, default_until, warnings, {k: c.text for k, c in keys.items()})


def _row(row: Sequence[Any], number: int, keys: dict[str, Any], today: date, issues: list[Issue],
         warnings: list[Issue]) -> tuple[dict[str, Any] | None, bool]:
    """One data row: its values (None when a cell was refused; the issue appended) and whether a renewal or
    removal year is marked 「不明」 (renewed, year unknown) rather than blank (in service)."""
    ok = True
    vals: dict[str, Any] = {}
    flagged = False
    for key, col in keys.items():
        raw = row[col.index] if col.index < len(row) else None
        shown = "" if raw is None else str(raw)
        try:
            if key == "asset_id":
                text = values.normalize_text(raw) if raw is not None else ""
                if not text:
                    raise values.InvalidValue("required", "施設IDが空欄です。", "asset_id is blank.")
                vals[key] = text
                continue
            parsed = values.parse_year(raw, today=today)
        except values.InvalidValue as exc:
            ok = False
            hint = UNKNOWN_HINT if exc.code == "not_a_year" else ""
            issues.append(Issue(number, col.text, shown, exc.code, exc.message_ja.rstrip("。") + "。" + hint,
                                exc.message_en))
            continue
        if parsed.warning_code:
            warnings.append(Issue(number, col.text, shown, parsed.warning_code, parsed.warning_ja or "",
                                  parsed.warning_en or ""))
        if parsed.value is None:
            if key in ("renewal_year", "removal_year") and values.normalize_text(raw):
                flagged = True  # 「不明」: renewed, but nobody recorded when
            continue
        vals[key] = float(parsed.value)
    return (vals if ok else None), flagged
