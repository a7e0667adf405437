"""Read xROAD (全国道路施設点検データベース) data: the public API's JSON and the 法77条 extract CSV; fetch the API.

Formats (shared/docs/domain/national-formats.md §2):

* the public basic API ``…/xROAD/api/v1/bridges?city=CODE&limit=N&offset=K`` answers an envelope
  ``{"metadata": …, "resultset": {"is_error", "count", "offset", "limit"}, "result": [records]}``; a file
  may hold one envelope, a list of envelopes (pages), or what :func:`fetch_bridges` saves
  (``{"retrieved_at", "request", "pages": [envelopes]}``);
* the 77条 extract is a CSV whose column names are dotted JSON paths (``syogen.shisetsu.meisyou``).

Value rules: the location is ``syogen.ichi`` (``shisetsu_id`` looks like ``"lat,lon"`` but is an identifier
and can lie kilometres away); 判定区分 ``"1"``–``"4"`` (``1.0``–``4.0`` in the CSV); ``"8"`` with inspection
year 0 means not yet inspected; ``kasetsu_nendo`` ``""`` / ``不明`` means unknown (never 0);
``kanrisya_code`` is the manager, ``gyousei_kuiki`` where the bridge stands; ``shisetsu_bangou``
(``BR0-XXXXXX-NNNNN``) is kept when present.

Pure: no Django. The network is touched only by :func:`fetch_bridges`, through ``urllib`` with a timeout
(tests pass their own ``opener``). Files over the limits of gunmane.io.limits (size, nesting, rows, columns,
field length) are refused with a NationalFileError naming the limit.
"""

from __future__ import annotations

import csv
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gunmane.io import limits
from gunmane.io.issues import Issue
from gunmane.io.ledger.tabular import TableError, detect_encoding
from gunmane.io.national.common import NationalFileError
from gunmane.io.values.parsing import (
    COORD_BOUNDS,
    InvalidValue,
    normalize_text,
    parse_coordinate,
    parse_grade,
    parse_year,
)

__all__ = ["XroadFetchError", "XroadFile", "XroadRecord", "fetch_bridges", "read_xroad"]

PUBLIC_BRIDGES_URL = "https://road-structures-db.mlit.go.jp/xROAD/api/v1/bridges"
NATIONAL_ID_RE = re.compile(r"[A-Z]{2}\d-\d{6}-\d{5}")
NOT_INSPECTED = "8"


@dataclass(slots=True)
class XroadRecord:
    """One facility of an xROAD file. ``inspection_year``/``grade`` None: not yet inspected."""

    file: str
    row: int  # record number in the file (1-based, over all pages) or the CSV line
    shisetsu_id: str
    national_id: str
    name: str
    reading: str
    route: str
    manager_code: str
    manager_name: str
    manager_kubun: str
    office: str
    pref_code: str
    pref_name: str
    city_code: str
    city_name: str
    lat: float | None
    lon: float | None
    built_year: int | None
    built_year_raw: str
    length_m: float | None
    width_m: float | None
    inspection_year: int | None
    grade: int | None
    grade_raw: str
    measure_status: str
    updated_at: str
    structure: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class XroadFile:
    path: Path
    display_name: str
    file_format: str  # json | csv
    records: list[XroadRecord]
    errors: list[Issue]
    warnings: list[Issue]
    count: int | None  # resultset.count (JSON)
    retrieved_at: str = ""
    rows: int = 0
    synthetic: bool = False  # metadata.synthetic true (test and demo files): facilities are marked synthetic


def _get(obj: Any, dotted: str) -> Any:
    """The value at a dotted path of nested dicts (or of a flat dict with dotted keys, as in the CSV)."""
    if isinstance(obj, dict) and dotted in obj:
        return obj[dotted]
    cur = obj
    for part in dotted.split("."):
        if isinstance(cur, list):  # `tenken` as a list: callers pick the entry first
            cur = cur[0] if cur else None
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _latest_tenken(rec: dict[str, Any]) -> Any:
    t = rec.get("tenken") if "tenken" in rec else None
    if isinstance(t, list):
        entries = [e for e in t if isinstance(e, dict)]
        return max(entries, key=lambda e: _num(e.get("nendo")) or 0) if entries else None
    return t


API_POSITION = ("syogen.ichi.ido", "syogen.ichi.keido")
# Position columns a flat CSV may carry instead of syogen.ichi (an extract joined with the 施設位置 of a GIS, or
# typed by hand): compared after NFKC, trimming and lower-casing, so 全角 ＬＡＴ and 「緯度 」 match too.
POSITION_COLUMNS = (("syogen.ichi.ido", "syogen.ichi.keido"), ("緯度", "経度"), ("北緯", "東経"),
                    ("lat", "lon"), ("lat", "lng"), ("latitude", "longitude"), ("ido", "keido"), ("y座標", "x座標"))
# The extent of Japan that parse_coordinate checks, named in the messages below.
JAPAN_BOUNDS_JA = (f"緯度{COORD_BOUNDS['lat'][0]:g}〜{COORD_BOUNDS['lat'][1]:g}度・"
                   f"経度{COORD_BOUNDS['lon'][0]:g}〜{COORD_BOUNDS['lon'][1]:g}度（日本の範囲）")

Warn = Callable[[str, Any, str, str, str], None]


def _position_columns(fields: Sequence[str]) -> tuple[str, str] | None:
    """The (latitude, longitude) columns of a CSV header, as written in the file; None if it has none.

    A column whose normalised name begins with 緯度/経度 (「緯度（世界測地系）」) counts too."""
    norm = {normalize_text(f).lower(): f for f in fields if f}
    for lat, lon in POSITION_COLUMNS:
        if lat in norm and lon in norm:
            return norm[lat], norm[lon]
    lat_col = next((f for n, f in norm.items() if n.startswith("緯度")), None)
    lon_col = next((f for n, f in norm.items() if n.startswith("経度")), None)
    return (lat_col, lon_col) if lat_col and lon_col else None


def _position(rec: dict[str, Any], columns: tuple[str, str], warn: Warn) -> tuple[float | None, float | None]:
    """Latitude and longitude of a record (decimal degrees, 度分秒, 北緯/東経, full-width digits), each checked
    against the extent of Japan. A value that cannot be read is a warning naming its column and value, and the
    facility is imported without a position (the quality report lists it among those without coordinates)."""
    lat_col, lon_col = columns
    raw = (_get(rec, lat_col), _get(rec, lon_col))
    if not _str(raw[0]) and not _str(raw[1]):
        return None, None
    out: list[float | None] = []
    for column, value, axis, label in ((lat_col, raw[0], "lat", "緯度"), (lon_col, raw[1], "lon", "経度")):
        if not _str(value):
            other = lon_col if axis == "lat" else lat_col
            warn(column, value, "coordinate_half_missing",
                 f"{label}の列「{column}」が空欄です（「{other}」だけがあります）。位置なしで取り込みました",
                 f"{column} is blank while {other} is given; imported without a position.")
            return None, None
        try:
            out.append(parse_coordinate(value, "lat" if axis == "lat" else "lon").value)
        except InvalidValue as exc:
            swapped = "緯度と経度の列が入れ替わっていないか確かめてください。" if exc.code == "outside_japan" else ""
            warn(column, value, exc.code,
                 f"「{column}」の値「{_str(value)}」を{label}として読めません（{exc.message_ja}）。{label}は十進の度"
                 f"（例: 34.6851）か度分秒（例: 34°41′06″）で、{JAPAN_BOUNDS_JA}のはずです。{swapped}"
                 "位置なしで取り込みました",
                 f"{column} = {_str(value)!r}: {exc.message_en}; imported without a position.")
            return None, None
    return out[0], out[1]


def _record(rec: dict[str, Any], file: str, row: int, today: date,  # noqa: C901 (complexity ratchet, #17: split before adding to it)
            errors: list[Issue], warnings: list[Issue],
            position: tuple[str, str] = API_POSITION) -> XroadRecord | None:
    def issue(target: list[Issue], column: str, value: Any, code: str, ja: str, en: str) -> None:
        target.append(Issue(row, column, _str(value), code, ja, en, file=file))


    tenken = _latest_tenken(rec)
    if tenken is None and "tenken.nendo" in rec:  # flat CSV row
        tenken = {"nendo": rec.get("tenken.nendo"), "kiroku": {"hantei_kubun": rec.get("tenken.kiroku.hantei_kubun")},
                  "syuzen": {"sochi_joukyou": rec.get("tenken.syuzen.sochi_joukyou")}}
    elif tenken is None:
        tenken = {"kiroku": {"hantei_kubun": rec.get("tenken.kiroku.hantei_kubun")}}
    ok = True
    name = _str(_get(rec, "syogen.shisetsu.meisyou"))
    reading = _str(_get(rec, "syogen.shisetsu.furigana"))
    if not name and not reading:
        issue(errors, "syogen.shisetsu.meisyou", "", "name_missing", "施設名（syogen.shisetsu.meisyou）が空欄です",
              "The facility name (syogen.shisetsu.meisyou) is blank.")
        ok = False
    raw_year = _get(rec, "syogen.kasetsu_nendo")
    built: int | None = None
    try:
        built = parse_year(raw_year, today=today).value
        if built is not None and built < 1868:
            raise InvalidValue("year_too_old", "1868年以降の年度のはずです", "A year from 1868 was expected.")
    except InvalidValue as exc:
        issue(errors, "syogen.kasetsu_nendo", raw_year, exc.code,
              f"架設年度は西暦4桁（例: \"1975\"）または空欄（不明）のはずです（{exc.message_ja}）",
              f"kasetsu_nendo must be a 4-digit year or blank for unknown ({exc.message_en}).")
        ok = False
    raw_grade = _get(tenken, "kiroku.hantei_kubun")
    grade_text = _str(raw_grade)
    nendo_raw = _get(tenken, "nendo")
    nendo = _num(nendo_raw)
    grade: int | None = None
    year: int | None = None
    if grade_text in ("", NOT_INSPECTED, "8.0") or nendo == 0:
        if grade_text not in ("", NOT_INSPECTED, "8.0"):
            issue(warnings, "tenken.nendo", nendo_raw, "inspection_year_zero",
                  f"点検年度が0（未点検）なのに判定区分「{grade_text}」があります。未点検として扱いました",
                  f"Inspection year 0 (not inspected) with class {grade_text}; treated as not inspected.")
    else:
        try:
            grade = parse_grade(grade_text).value
        except InvalidValue as exc:
            issue(errors, "tenken.kiroku.hantei_kubun", raw_grade, exc.code,
                  f"判定区分は \"1\"〜\"4\"（未点検は \"8\"）のはずです（{exc.message_ja}）",
                  f"hantei_kubun must be \"1\"–\"4\" (\"8\" = not inspected) ({exc.message_en}).")
            ok = False
        if nendo is None:
            if "tenken.kiroku.hantei_kubun" not in rec or nendo_raw not in (None, ""):
                issue(errors, "tenken.nendo", nendo_raw, "not_a_year",
                      "点検年度（tenken.nendo）は西暦の年度（例: 2024）のはずです",
                      "tenken.nendo must be a fiscal year such as 2024.")
                ok = False
        elif nendo.is_integer() and 1990 <= nendo <= today.year:
            year = int(nendo)
        else:
            issue(errors, "tenken.nendo", nendo_raw, "not_a_year",
                  f"点検年度（tenken.nendo）は1990〜{today.year}年度のはずです",
                  f"tenken.nendo must be a fiscal year 1990–{today.year}.")
            ok = False
    lat, lon = _position(rec, position, lambda *a: issue(warnings, *a))
    national_id = _str(rec.get("shisetsu_bangou"))
    if national_id and not NATIONAL_ID_RE.fullmatch(national_id):
        issue(warnings, "shisetsu_bangou", national_id, "national_id_shape",
              "施設番号が BR0-XXXXXX-NNNNN の形ではありません。そのまま記録しました",
              "The facility number is not shaped like BR0-XXXXXX-NNNNN; kept as it is.")
    manager_code = _str(rec.get("kanrisya_code")).zfill(6) if _str(rec.get("kanrisya_code")) else ""
    if manager_code.endswith(".0"):
        manager_code = manager_code[:-2].zfill(6)
    pref_name = _str(_get(rec, "syogen.gyousei_kuiki.todoufuken_mei")) or _str(_get(rec, "syogen.ichi.todofuken_meisyou"))
    city_name = (_str(_get(rec, "syogen.gyousei_kuiki.shikuchouson_mei"))
                 or _str(_get(rec, "syogen.ichi.shikutyouson_meisyou")))
    joubu = _str(_get(rec, "syogen.kouzou_keishiki.joubu"))
    if not ok:
        return None
    extra = {"xroad.shisetsu_id": _str(rec.get("shisetsu_id"))}
    status = _str(_get(tenken, "syuzen.sochi_joukyou"))
    if status:
        extra["xroad.sochi_joukyou"] = status
    return XroadRecord(
        file, row, _str(rec.get("shisetsu_id")), national_id, name, reading, _str(_get(rec, "syogen.rosen.meisyou")),
        manager_code, _str(_get(rec, "syogen.kanrisya.meisyou")), _str(_get(rec, "syogen.kanrisya.kubun")),
        _str(_get(rec, "syogen.kanrisya.jimusyo")), _str(_get(rec, "syogen.gyousei_kuiki.todoufuken_code")).zfill(2)
        if _str(_get(rec, "syogen.gyousei_kuiki.todoufuken_code")) else "", pref_name,
        _str(_get(rec, "syogen.gyousei_kuiki.shikuchouson_code")), city_name, lat, lon, built,
        normalize_text(raw_year), _num(_get(rec, "syogen.kyouchou")), _num(_get(rec, "syogen.fukuin")), year, grade,
        grade_text, status, _str(rec.get("koushin_nichiji")), joubu, extra)


def _fail(name: str, code: str, ja: str, en: str, value: str = "") -> NationalFileError:
    return NationalFileError(Issue(0, "", value, code, ja, en, file=name))


def _envelopes(data: Any, name: str) -> tuple[list[dict[str, Any]], str]:
    """The API envelopes (pages) of a JSON document, and the retrieval time if it was saved by gunmane."""
    retrieved = ""
    if isinstance(data, dict) and "pages" in data:
        retrieved = _str(data.get("retrieved_at"))
        data = data["pages"]
    pages = data if isinstance(data, list) and all(isinstance(p, dict) and "result" in p for p in data) and data \
        else [data]
    for i, page in enumerate(pages, start=1):
        if not isinstance(page, dict) or "result" not in page or "resultset" not in page:
            raise _fail(name, "xroad_shape",
                        "xROAD の応答の形（metadata・resultset・result）ではありません。"
                        "xROAD 公開 API の JSON をそのまま保存したファイルを指定してください。",
                        "Not an xROAD API response (metadata / resultset / result).")
        rs = page.get("resultset") or {}
        if not isinstance(rs, dict):
            raise _fail(name, "xroad_shape", f"{i}ページ目の resultset がオブジェクトではありません。",
                        f"Page {i}: resultset is not an object.")
        if rs.get("is_error"):
            raise _fail(name, "xroad_error_envelope",
                        f"xROAD がエラーを返しています（{i}ページ目の resultset.is_error が true）。"
                        "条件（city など）を確かめて取得し直してください。",
                        f"xROAD answered with an error (page {i}: resultset.is_error is true).",
                        value=json.dumps(page.get("metadata") or {}, ensure_ascii=False)[:200])
        if not isinstance(page.get("result"), list):
            raise _fail(name, "xroad_shape", f"{i}ページ目の result が配列ではありません。",
                        f"Page {i}: result is not a list.")
    return pages, retrieved


def read_xroad(path: Path, *, display_name: str | None = None, today: date | None = None) -> XroadFile:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    """Read an xROAD JSON (API envelope, pages, or a gunmane fetch file) or a 77条 extract CSV."""
    name = display_name or path.name
    today = today or date.today()
    errors: list[Issue] = []
    warnings: list[Issue] = []
    records: list[XroadRecord] = []
    with path.open("rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() == ".json" or head[:1] in (b"{", b"["):
        try:
            data = limits.load_json(path)
        except limits.FileRefused as exc:
            raise _fail(name, exc.code, exc.message_ja, exc.message_en) from exc
        except UnicodeDecodeError as exc:
            raise _fail(name, "json_invalid", f"JSON として読めません（UTF-8 ではありません。{exc.start}バイト目）。",
                        f"Not valid JSON (not UTF-8 at byte {exc.start}).") from exc
        except ValueError as exc:  # json.JSONDecodeError, or a number with more digits than Python converts
            ja, en = limits.json_problem(exc)
            raise _fail(name, "json_invalid", f"JSON として読めません（{ja}）。", f"Not valid JSON ({en}).") from exc
        pages, retrieved = _envelopes(data, name)
        count = None
        n = 0
        for page in pages:
            rs = page.get("resultset") or {}
            if count is None and isinstance(rs.get("count"), int):
                count = rs["count"]
            for rec in page["result"]:
                n += 1
                if not isinstance(rec, dict):
                    errors.append(Issue(n, "result", _str(rec)[:50], "xroad_shape",
                                        "施設のレコードがオブジェクトではありません", "A record is not an object.", file=name))
                    continue
                r = _record(rec, name, n, today, errors, warnings)
                if r is not None:
                    records.append(r)
        if count is not None and n < count:
            warnings.append(Issue(
                0, "resultset.count", str(count), "xroad_partial",
                f"全 {count} 件のうち {n} 件しか入っていません（途中までのページ）。残りは取り込まれません。"
                "gunmane fetch xroad で全ページを取得できます。",
                f"Only {n} of {count} records are in the file (a partial download).", file=name))
        synthetic = any(isinstance(m := p.get("metadata"), dict) and m.get("synthetic") is True for p in pages)
        return XroadFile(path, name, "json", records, errors, warnings, count, retrieved, n, synthetic)
    lim = limits.current()
    try:
        limits.check_file_size(path)
        encoding = detect_encoding(path)
    except limits.FileRefused as exc:
        raise _fail(name, exc.code, exc.message_ja, exc.message_en) from exc
    except TableError as exc:
        raise _fail(name, exc.code, exc.message_ja, exc.message_en) from exc
    budget = limits.LineBudget()
    n = 0
    with path.open(encoding=encoding, newline="") as fh:
        try:
            reader = csv.DictReader(limits.csv_lines(fh, budget, lim))
            fields = reader.fieldnames or []
            budget.next_row()
            if len(fields) > lim.columns:
                raise limits.too_many_columns(len(fields), lim.columns, row=1)
            if "syogen.shisetsu.meisyou" not in fields or not any(f.startswith("tenken.") for f in fields):
                raise _fail(name, "xroad_csv_header",
                            "xROAD の CSV の見出し（syogen.shisetsu.meisyou、tenken.kiroku.hantei_kubun など）が"
                            f"見つかりません。見つかった見出し: {'、'.join(fields[:12])}",
                            "No xROAD CSV header (syogen.shisetsu.meisyou, tenken.kiroku.hantei_kubun …).",
                            value=",".join(fields[:12]))
            position = _position_columns(fields) or API_POSITION
            for row in reader:
                line = budget.row
                budget.next_row()
                if line > lim.rows + 1:
                    raise limits.too_many_rows(line, lim.rows)
                extra = row.pop(None, None)  # cells beyond the header (DictReader puts them under None)
                if extra is not None and len(fields) + len(extra) > lim.columns:
                    raise limits.too_many_columns(len(fields) + len(extra), lim.columns, row=line)
                if not any(isinstance(v, str) and v.strip() for v in row.values()):
                    continue
                n += 1
                r = _record(dict(row), name, line, today, errors, warnings, position)
                if r is not None:
                    records.append(r)
        except csv.Error as exc:
            refusal = limits.csv_error(exc, budget.row, lim)
            raise _fail(name, refusal.code, refusal.message_ja, refusal.message_en) from exc
        except limits.FileRefused as exc:
            raise NationalFileError(Issue(exc.row or 0, "", "", exc.code, exc.message_ja, exc.message_en,
                                          file=name)) from exc
        except UnicodeDecodeError as exc:  # detect_encoding read the whole file: only if it changed since
            raise NationalFileError(Issue(budget.row, "", "", "unknown_encoding",
                                          f"{budget.row}行目で文字コードを読み取れません（{exc.encoding}）。",
                                          f"Row {budget.row} cannot be decoded as {exc.encoding}.", file=name)) from exc
    return XroadFile(path, name, "csv", records, errors, warnings, None, "", n)


# -- fetching the public API ----------------------------------------------------------------------------

class XroadFetchError(Exception):
    def __init__(self, code: str, message_ja: str, message_en: str) -> None:
        super().__init__(message_ja)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en


Opener = Callable[[str, float], bytes]


def _urlopen(url: str, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "gunmane"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 — fixed https endpoint or a test server
        data: bytes = resp.read()
        return data


def fetch_bridges(city: str, *, base_url: str = PUBLIC_BRIDGES_URL, limit: int = 1000, timeout: float = 30.0,
                  opener: Opener | None = None, progress: Callable[[int, int], None] | None = None,
                  now: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Every bridge of a municipality from the public API, page by page (limit/offset until resultset.count).

    Returns ``{"retrieved_at", "request": {url, city, limit}, "pages": [raw envelopes]}`` — what
    :func:`read_xroad` reads. Raises XroadFetchError on a timeout, an HTTP or network error, a body that
    is not JSON, an error envelope, or an empty page before the total is reached.
    """
    fetch = opener or _urlopen
    started = (now or (lambda: datetime.now(UTC)))()
    pages: list[dict[str, Any]] = []
    received = 0
    total: int | None = None
    while total is None or received < total:
        url = f"{base_url}?{urllib.parse.urlencode({'city': city, 'limit': limit, 'offset': received})}"
        try:
            body = fetch(url, timeout)
        except TimeoutError as exc:
            raise XroadFetchError("timeout", f"xROAD が {timeout:g} 秒以内に応答しませんでした（offset={received}）。"
                                  "時間をおいて再実行するか --timeout を長くしてください。",
                                  f"xROAD did not answer within {timeout:g} s (offset={received}).") from exc
        except urllib.error.HTTPError as exc:
            raise XroadFetchError("http_error", f"xROAD が HTTP {exc.code} を返しました（offset={received}）。",
                                  f"xROAD answered HTTP {exc.code} (offset={received}).") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise XroadFetchError("timeout", f"xROAD が {timeout:g} 秒以内に応答しませんでした（offset={received}）。",
                                      f"xROAD did not answer within {timeout:g} s.") from exc
            raise XroadFetchError("network", f"xROAD に接続できません（{exc.reason}）。インターネットに接続できる端末で"
                                  "実行するか、ブラウザで保存した JSON を gunmane import xroad で取り込んでください。",
                                  f"Cannot reach xROAD ({exc.reason}).") from exc
        try:
            page = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise XroadFetchError("json_invalid", f"xROAD の応答が JSON ではありません（offset={received}）。",
                                  f"The xROAD answer is not JSON (offset={received}).") from exc
        rs = page.get("resultset") if isinstance(page, dict) else None
        if not isinstance(rs, dict) or not isinstance(page.get("result"), list):
            raise XroadFetchError("xroad_shape", "xROAD の応答の形（metadata・resultset・result）ではありません。",
                                  "Not an xROAD envelope.")
        if rs.get("is_error"):
            raise XroadFetchError("xroad_error_envelope",
                                  f"xROAD がエラーを返しました（city={city}）。団体コード（検査数字付き6桁）を確かめてください。",
                                  f"xROAD answered with an error (city={city}).")
        if total is None:
            total = int(rs.get("count") or 0)
        result = page["result"]
        if not result and received < total:
            raise XroadFetchError("xroad_partial",
                                  f"全 {total} 件のうち {received} 件を受け取ったところで空のページが返りました。"
                                  "途中までのデータは保存していません。時間をおいて再実行してください。",
                                  f"An empty page after {received} of {total} records; nothing saved.")
        pages.append(page)
        received += len(result)
        if progress:
            progress(received, total)
    return {"retrieved_at": started.isoformat(timespec="seconds"),
            "request": {"url": base_url, "city": city, "limit": limit}, "count": total, "pages": pages}
