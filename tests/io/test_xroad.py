"""xROAD: the public API envelope (one or many pages), the 77条 extract CSV, and fetching with paging.

No test touches the network: fetch_bridges gets an opener built from recorded (synthetic) pages, or a
local http.server.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gunmane.io.national.common import NationalFileError
from gunmane.io.national.xroad import XroadFetchError, fetch_bridges, read_xroad
from tests.national_fixtures import (
    write_xroad_csv,
    write_xroad_json,
    xroad_envelope,
    xroad_record,
    xroad_records_shiroishi,
)

TODAY = date(2026, 3, 31)


def test_public_api_envelope(tmp_path: Path) -> None:
    xf = read_xroad(write_xroad_json(tmp_path / "042064.json", xroad_records_shiroishi()), today=TODAY)
    assert (xf.file_format, xf.count, xf.rows, xf.errors, xf.warnings) == ("json", 6, 6, [], [])
    by_name = {r.name: r for r in xf.records}
    midori = by_name["合成みどり橋"]
    assert (midori.grade, midori.inspection_year, midori.built_year, midori.manager_code) == (3, 2024, 1968, "042064")
    assert midori.reading == "(ｺﾞｳｾｲﾐﾄﾞﾘﾊﾞｼ)" and midori.length_m == 12.5
    # "8" with year 0: not yet inspected, no grade; "" construction year: unknown (never 0).
    never = by_name["合成未点検橋"]
    assert (never.grade, never.inspection_year, never.grade_raw) == (None, None, "8")
    far = by_name["合成離れ橋"]
    assert (far.built_year, far.built_year_raw) == (None, "")
    # The position is syogen.ichi, not shisetsu_id (48 km away); shisetsu_id is kept as an identifier.
    assert (far.lat, far.lon) == (38.01001, 140.62001)
    assert far.shisetsu_id == "38.40000,140.90000" and far.extra["xroad.shisetsu_id"] == "38.40000,140.90000"
    pref = by_name["合成県橋"]
    assert (pref.manager_code, pref.city_code, pref.route) == ("040002", "042064", "国道113号　現道")


def test_many_pages_and_partial_file(tmp_path: Path) -> None:
    recs = xroad_records_shiroishi()
    pages = [xroad_envelope(recs[:4], count=6, limit=4), xroad_envelope(recs[4:], count=6, offset=4, limit=4)]
    path = tmp_path / "pages.json"
    path.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")
    xf = read_xroad(path, today=TODAY)
    assert len(xf.records) == 6 and [r.row for r in xf.records] == [1, 2, 3, 4, 5, 6] and not xf.warnings
    path.write_text(json.dumps(pages[:1], ensure_ascii=False), encoding="utf-8")
    xf = read_xroad(path, today=TODAY)
    assert len(xf.records) == 4 and xf.warnings[0].code == "xroad_partial" and "6 件のうち 4 件" in xf.warnings[0].message_ja


def test_error_envelope_refused(tmp_path: Path) -> None:
    path = write_xroad_json(tmp_path / "e.json", [], is_error=True)
    with pytest.raises(NationalFileError) as e:
        read_xroad(path)
    assert e.value.issue.code == "xroad_error_envelope" and "is_error" in e.value.issue.message_ja


def test_not_an_envelope(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"items": []}', encoding="utf-8")
    with pytest.raises(NationalFileError) as e:
        read_xroad(path)
    assert e.value.issue.code == "xroad_shape"
    path.write_text('{"metadata": ', encoding="utf-8")
    with pytest.raises(NationalFileError) as e:
        read_xroad(path)
    assert e.value.issue.code == "json_invalid"


def test_bad_values_name_record_and_field(tmp_path: Path) -> None:
    recs = [xroad_record(1, name="合成橋", grade="5"), xroad_record(2, name="合成橋2", built="0"),
            xroad_record(3, name="合成橋3", grade="2", nendo=0)]
    xf = read_xroad(write_xroad_json(tmp_path / "bad.json", recs), today=TODAY)
    assert [(e.row, e.column, e.value, e.code) for e in xf.errors] == [
        (1, "tenken.kiroku.hantei_kubun", "5", "grade_out_of_range"), (2, "syogen.kasetsu_nendo", "0", "not_a_year")]
    assert xf.errors[0].file == "bad.json" and '"1"〜"4"' in xf.errors[0].message_ja
    assert [w.code for w in xf.warnings] == ["inspection_year_zero"]
    assert [r.name for r in xf.records] == ["合成橋3"] and xf.records[0].grade is None


def test_77jo_csv(tmp_path: Path) -> None:
    xf = read_xroad(write_xroad_csv(tmp_path / "prefecture_04_宮城県.csv"), today=TODAY)
    assert xf.file_format == "csv" and xf.rows == 4
    assert [(e.row, e.column, e.value, e.code) for e in xf.errors] == [
        (5, "tenken.kiroku.hantei_kubun", "7.0", "grade_out_of_range")]
    a, b, c = xf.records
    assert (a.national_id, a.built_year, a.built_year_raw, a.grade, a.structure) == (
        "BR0-042064-00019", None, "不明", 2, "310.0")
    assert (b.grade, b.built_year) == (None, 1985)  # empty class: not inspected
    assert (c.manager_name, c.grade) == ("大河原町", 3)
    assert a.lat is None  # the extract has no syogen.ichi: shisetsu_id is not taken as a position


def test_77jo_csv_cp932(tmp_path: Path) -> None:
    xf = read_xroad(write_xroad_csv(tmp_path / "x.csv", encoding="cp932"), today=TODAY)
    assert xf.records[0].name == "合成みどり橋"


# -- fetching ------------------------------------------------------------------------------------------
def recorded_pages(records: list[dict], limit: int) -> dict[int, bytes]:  # type: ignore[type-arg]
    return {off: json.dumps(xroad_envelope(records[off:off + limit], count=len(records), offset=off, limit=limit),
                            ensure_ascii=False).encode() for off in range(0, len(records), limit)}


def test_fetch_pages_until_count() -> None:
    records = [xroad_record(i, name=f"合成橋{i}") for i in range(7)]
    pages = recorded_pages(records, 3)
    asked: list[dict[str, list[str]]] = []

    def opener(url: str, timeout: float) -> bytes:
        q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        asked.append(q)
        return pages[int(q["offset"][0])]

    data = fetch_bridges("042064", limit=3, opener=opener, now=lambda: datetime(2026, 11, 27, 3, 0, tzinfo=UTC))
    assert [q["offset"] for q in asked] == [["0"], ["3"], ["6"]] and asked[0]["city"] == ["042064"]
    assert data["retrieved_at"] == "2026-11-27T03:00:00+00:00" and data["count"] == 7 and len(data["pages"]) == 3


def test_fetch_error_envelope_timeout_and_partial() -> None:
    err = json.dumps(xroad_envelope([], is_error=True)).encode()
    with pytest.raises(XroadFetchError) as e:
        fetch_bridges("999999", opener=lambda url, t: err)
    assert e.value.code == "xroad_error_envelope"

    def slow(url: str, timeout: float) -> bytes:
        raise TimeoutError("timed out")

    with pytest.raises(XroadFetchError) as e:
        fetch_bridges("042064", opener=slow, timeout=5)
    assert e.value.code == "timeout" and "5 秒" in e.value.message_ja
    first = json.dumps(xroad_envelope([xroad_record(0, name="合成橋")], count=3, limit=1)).encode()
    empty = json.dumps(xroad_envelope([], count=3, offset=1, limit=1)).encode()
    with pytest.raises(XroadFetchError) as e:
        fetch_bridges("042064", limit=1, opener=lambda url, t: first if "offset=0" in url else empty)
    assert e.value.code == "xroad_partial" and "3 件のうち 1 件" in e.value.message_ja


@pytest.fixture
def local_server() -> Iterator[str]:
    """A local stand-in for the public API: pages of 2, and a handler that never answers for city=000000."""
    records = [xroad_record(i, name=f"合成橋{i}") for i in range(5)]
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            if q["city"] == ["000000"]:
                stop.wait(3)
                return
            off, lim = int(q["offset"][0]), int(q["limit"][0])
            body = json.dumps(xroad_envelope(records[off:off + lim], count=5, offset=off, limit=lim)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/xROAD/api/v1/bridges"
    stop.set()
    server.shutdown()
    server.server_close()


def test_fetch_over_http_with_urllib(local_server: str, tmp_path: Path) -> None:
    data = fetch_bridges("042064", base_url=local_server, limit=2, timeout=5)
    assert [len(p["result"]) for p in data["pages"]] == [2, 2, 1]
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    xf = read_xroad(path, today=TODAY)
    assert len(xf.records) == 5 and xf.retrieved_at == data["retrieved_at"] and not xf.warnings
    with pytest.raises(XroadFetchError) as e:
        fetch_bridges("000000", base_url=local_server, timeout=0.5)
    assert e.value.code == "timeout"
