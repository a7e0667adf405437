"""Read a file of inspection pairs (点検ペア) for the deterioration model.

Columns (Japanese or English headers; order free; CSV in UTF-8/CP932 or XLSX):

| key | 見出し（例） | 内容 |
| --- | --- | --- |
| facility_id | 施設ID・施設番号 | the facility (several pairs per facility allowed) |
| before | 前回の健全性・前回の健全度・前回の判定 | grade at the earlier inspection: Ⅰ–Ⅳ / I–IV / 1–4, or as written on ``scale`` |
| after | 今回の健全性・今回健全性 | grade at the later inspection |
| interval_years | 経過年数・点検間隔（年） | years between the two inspections (decimals allowed) |
| member | 団体コード・構成員 | optional: the group member, for pooled fits |
| any other column | — | a numeric covariate (or only those named in ``covariates``) |

All-or-nothing: any bad cell raises :class:`PairsFileError` listing every problem with its row
(as Excel numbers it), column (as written in the file), value and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gunmane.engine.deterioration.data import EXCLUSION_REASONS, PairColumns, PairSet
from gunmane.engine.deterioration.model import MCI_FIVE_BINS, StateSpace, mci_five_state
from gunmane.io.errors import IoFileError
from gunmane.io.issues import Issue
from gunmane.io.ledger.schema import compact_header
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.values import parsing as values

if TYPE_CHECKING:  # a scale is given only for sector fits: the Ⅰ–Ⅳ fit starts without loading the scales (#15 §6)
    from gunmane.engine.scales import Scale

__all__ = ["MCI_FIVE", "PAIR_HEADERS", "PairsFile", "PairsFileError", "read_pairs"]

#: ``scale=MCI_FIVE``: grades written as MCI 0–10, read onto the five states of the national-road pavement study
MCI_FIVE = "mci-5"

PAIR_HEADERS: dict[str, tuple[str, ...]] = {
    "facility_id": ("施設ID", "施設番号", "施設コード", "橋梁ID", "橋梁番号", "管理番号", "facility_id", "facility"),
    "before": ("前回の健全性", "前回健全性", "前回の判定区分", "前回判定区分", "前回判定", "前回の判定", "前回の健全度", "前回健全度", "前回の緊急度", "前回の区分", "前回", "健全性(前回)",
               "before", "grade_before"),
    "after": ("今回の健全性", "今回健全性", "今回の判定区分", "今回判定区分", "今回判定", "今回の判定", "今回の健全度", "今回健全度", "今回の緊急度", "今回の区分", "今回", "健全性(今回)",
              "after", "grade_after"),
    "interval_years": ("経過年数", "経過年数(年)", "点検間隔", "点検間隔(年)", "間隔(年)", "間隔年数", "interval_years",
                       "interval", "years"),
    "member": ("団体コード", "市区町村コード", "構成員", "構成団体", "member", "lg_code"),
}
LABELS_JA = {"facility_id": "施設ID", "before": "前回の健全性", "after": "今回の健全性", "interval_years": "経過年数",
             "member": "団体コード"}
REQUIRED = ("facility_id", "before", "after", "interval_years")
MAX_ISSUES = 200


_INDEX = {compact_header(alias): key for key, aliases in PAIR_HEADERS.items() for alias in aliases}


def _match(text: str) -> str | None:
    return _INDEX.get(compact_header(text))


class PairsFileError(IoFileError):
    """The pairs file cannot be used; ``issues`` say where and why (row 0 = the file itself), the message lists
    the first 20; ``file`` (also ``display_name``) is the file as shown to the user."""

    def __init__(self, issues: Sequence[Issue], display_name: str) -> None:
        self.issues = list(issues)
        self.display_name = display_name
        first = self.issues[0] if self.issues else None
        super().__init__(first.code if first else "invalid_file", self._text_ja(), self._text_en(), file=display_name)

    def _text_ja(self) -> str:
        lines = [f"{self.display_name}: 点検ペアのファイルに{len(self.issues)}件の誤りがあります（取り込みは行いません）。"]
        for i in self.issues[:20]:
            column = f"列「{i.column}」" if i.column else ""
            where = (f"{i.row}行目・{column}" if column else f"{i.row}行目") if i.row else (column or "ファイル")
            lines.append(f"- {where}" + (f"・値「{i.value}」" if i.value else "") + f": {i.message_ja}")
        return "\n".join(lines)

    def _text_en(self) -> str:
        lines = [f"{self.display_name}: {len(self.issues)} error(s) in the pairs file (nothing imported)."]
        lines += [f"- row {i.row}, column {i.column!r}, value {i.value!r}: {i.message_en}" for i in self.issues[:20]]
        return "\n".join(lines)


@dataclass(frozen=True)
class PairsFile:
    pairs: PairSet
    warnings: list[Issue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # key → header as written


def _grade(raw: Any, n_recorded: int) -> values.Parsed[int]:
    """A recorded grade 1…n_recorded.  Scales of up to four grades (健全性 I–IV, also merged III+IV or the
    three states I, II, III) read Ⅰ–Ⅳ, I–IV, 1–4 and full-width digits; longer municipal scales integers."""
    if n_recorded > 4:
        return values.parse_int(raw, minimum=1, maximum=n_recorded)
    parsed = values.parse_grade(raw)
    if parsed.value is not None and parsed.value > n_recorded:
        shown = "・".join("ⅠⅡⅢⅣ"[:n_recorded])
        raise values.InvalidValue("grade_out_of_range",
                                  f"健全性 {parsed.value} はこのモデルの区分（{shown}）にありません。"
                                  "Ⅳ を含むファイルなら「Ⅳ をⅢにまとめる」を使ってください。",
                                  f"grade {parsed.value} is outside 1..{n_recorded}")
    return parsed


def _scale_grade(raw: Any, scale: Scale | str) -> values.Parsed[int]:
    """A grade written on ``scale`` (as the manual writes it: 「C」「緊急度Ⅱ」「MCI 3.5」) → its index, 1 = best;
    ``MCI_FIVE``: an MCI value → its state on the five MCI states of the pavement study."""
    if scale == MCI_FIVE:
        mci = values.parse_number(str(raw).upper().replace("MCI", "").replace("=", "") if raw is not None else raw,
                                  minimum=0, maximum=10)
        return values.Parsed(None if mci.value is None else mci_five_state(mci.value), mci.warning_code,
                             mci.warning_ja, mci.warning_en)
    from gunmane.engine.scales import Scale
    from gunmane.io.values.scales import parse_scale_grade

    assert isinstance(scale, Scale)
    return parse_scale_grade(raw, scale)


def _expected(scale: Scale | str | None, n_recorded: int) -> str:
    if scale == MCI_FIVE:
        return "MCI（0〜10）。状態は " + "・".join(label for label, _ in MCI_FIVE_BINS)
    if scale is not None and not isinstance(scale, str):
        return f"{scale.name}の区分（{scale.accepted}）"
    return (f"健全性 {'・'.join('ⅠⅡⅢⅣ'[:n_recorded])}（I〜IV、1〜4 の形も可）" if n_recorded <= 4
            else f"1〜{n_recorded}の整数")


def read_pairs(path: Path, *, states: StateSpace | None = None, covariates: Sequence[str] | None = None,  # noqa: C901 (complexity ratchet, #17: split before adding to it)
               display_name: str | None = None, scale: Scale | str | None = None) -> PairsFile:
    """Read a pairs CSV/XLSX into a PairSet (grades as 1-based ints; nothing excluded yet).

    ``covariates``: None = every column that is not one of the known ones is a numeric covariate;
    a sequence = exactly those columns (each must exist), other columns are ignored.
    ``scale``: the grades are written on this inspection scale (read with ``parse_scale_grade``; the
    states should then be ``StateSpace.from_scale(scale)``), or ``MCI_FIVE`` for MCI values.
    """
    states = states or StateSpace.grades()
    name = display_name or path.name
    try:
        table = open_table(path, _match, display_name=name)
    except TableError as exc:
        raise PairsFileError([Issue(0, "", name, exc.code, exc.message_ja, exc.message_en)], name) from exc
    header_row = table.header_rows[-1]
    keys = table.keys
    issues: list[Issue] = []
    for key in REQUIRED:
        if key not in keys:
            aliases = "・".join(PAIR_HEADERS[key][:3])
            issues.append(Issue(header_row, LABELS_JA[key], "", "missing_column",
                                f"必須の列「{LABELS_JA[key]}」が見つかりません（見出しの例: {aliases}）。",
                                f"Required column '{key}' not found (e.g. {', '.join(PAIR_HEADERS[key][-2:])})."))
    extra = [c for c in table.columns if c.key is None and c.text.strip()]
    if covariates is None:
        cov_cols = extra
    else:
        by_text = {compact_header(c.text): c for c in extra}
        cov_cols = []
        for cname in covariates:
            col = by_text.get(compact_header(cname))
            if col is None:
                issues.append(Issue(header_row, cname, "", "missing_covariate_column",
                                    f"共変量の列「{cname}」が見つかりません。",
                                    f"Covariate column '{cname}' not found."))
            else:
                cov_cols.append(col)
    if issues:
        raise PairsFileError(issues, name)
    records: dict[str, list[Any]] = {k: [] for k in [*REQUIRED, *(["member"] if "member" in keys else [])]}
    cov_values: dict[str, list[float | None]] = {c.text.strip(): [] for c in cov_cols}
    warnings: list[Issue] = []

    def cell(row: Sequence[Any], index: int) -> Any:
        return row[index] if index < len(row) else None

    n_recorded = states.n_recorded  # once, not per cell (a 6,500-pair file is 13,000 grades)
    # A file writes few distinct grades and intervals: each distinct cell is parsed once (parsing is pure).
    grades: dict[Any, values.Parsed[Any]] = {}
    years: dict[Any, values.Parsed[Any]] = {}
    grade_expected = _expected(scale, n_recorded)

    try:
        for number, row in table.rows():
            ok = True
            vals: dict[str, Any] = {}
            for key in records:
                col = keys[key]
                raw = cell(row, col.index)
                shown = "" if raw is None else str(raw)
                try:
                    if key == "facility_id" or key == "member":
                        text = values.normalize_text(raw) if raw is not None else ""
                        if not text:
                            raise values.InvalidValue("required", f"{LABELS_JA[key]}が空欄です。",
                                                      f"{key} is blank.")
                        vals[key] = text
                        continue
                    parsed: values.Parsed[Any]
                    if key in ("before", "after"):
                        parsed = grades.get(raw) or grades.setdefault(
                            raw, _grade(raw, n_recorded) if scale is None else _scale_grade(raw, scale))
                        expected = grade_expected
                    else:
                        parsed = years.get(raw) or years.setdefault(raw, values.parse_number(raw, minimum=0,
                                                                                             unit_hint="年"))
                        expected = "0以上の年数（小数可）"
                    if parsed.value is None:
                        raise values.InvalidValue("required", f"{LABELS_JA[key]}が空欄です。{expected}を入れてください。",
                                                  f"{key} is blank.")
                    if parsed.warning_code:
                        warnings.append(Issue(number, col.text, shown, parsed.warning_code, parsed.warning_ja or "",
                                              parsed.warning_en or ""))
                    vals[key] = parsed.value
                except values.InvalidValue as exc:
                    ok = False
                    issues.append(Issue(number, col.text, shown, exc.code, exc.message_ja, exc.message_en))
            for col in cov_cols:
                raw = cell(row, col.index)
                try:
                    cv = values.parse_number(raw)
                    vals[col.text.strip()] = cv.value
                except values.InvalidValue as exc:
                    ok = False
                    issues.append(Issue(number, col.text, "" if raw is None else str(raw), exc.code,
                                        f"共変量「{col.text}」は数値で入れてください（空欄は欠測）。{exc.message_ja}",
                                        f"Covariate '{col.text}' must be numeric. {exc.message_en}"))
            if len(issues) >= MAX_ISSUES:
                break
            if ok:
                for key in records:
                    records[key].append(vals[key])
                for cname in cov_values:
                    cov_values[cname].append(vals.get(cname))
    except TableError as exc:  # a row over a limit deep in the file (rows, columns, field length)
        raise PairsFileError([Issue(exc.row or 0, "", name, exc.code, exc.message_ja, exc.message_en)], name) from exc
    if issues:
        raise PairsFileError(issues, name)
    if not records["facility_id"]:
        raise PairsFileError([Issue(0, "", name, "no_rows", "点検ペアの行が1行もありません。", "No pair rows.")], name)
    # numpy columns, not a DataFrame: the fit needs no pandas, and the command starts faster without it (#15 §6)
    columns: dict[str, Any] = {
        "facility_id": np.array(records["facility_id"], dtype=object),
        "before": np.array(records["before"], dtype=np.int64),
        "after": np.array(records["after"], dtype=np.int64),
        "interval_years": np.array(records["interval_years"], dtype=float),
    }
    if "member" in records:
        columns["member"] = np.array(records["member"], dtype=object)
    for cname, col_values in cov_values.items():
        columns[cname] = np.array([np.nan if v is None else v for v in col_values], dtype=float)
    frame = PairColumns(columns)
    pairs = PairSet(frame, dict.fromkeys(EXCLUSION_REASONS, 0), tuple(cov_values), source=f"pairs file {name}")
    return PairsFile(pairs, warnings, {k: c.text for k, c in keys.items()})
