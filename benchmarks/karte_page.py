"""カルテのページ（web）: the municipality カルテ page over a database holding the synthetic nation.

Run through `benchmarks/indicators.py --web` (see there for the flags). In one process:

1. setup (not measured): a temporary data folder (GUNMANE_DATA_DIR, SQLite), `migrate`, the reference data,
   then the synthetic nation of `indicators.build_nation` written **directly** with plain INSERTs
   (`cursor.executemany`) into registry_facility / registry_inspection / registry_measure — every facility
   is_synthetic, latest_grade / latest_inspected_on consistent with the inspections — and `bump_data_version()`;
2. pages through Django's test Client as a signed-in superuser: the first `/karte/292125/` (cold: reads the
   ledger into pandas and builds the cached all-municipality table), then warm medians of several
   municipality カルテ and of the national `/karte/`;
3. baseline: a straightforward per-municipality ORM loop — the ledger indicators of each municipality with
   ORM queries, which a peer / national percentile needs for every municipality — timed on a sample and
   extrapolated to all municipalities; its numbers are checked against the table behind the page.

Django is set up by `setup_django()`; nothing from gunmane.web is imported before that.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gunmane.engine.indicator_types import LedgerFrames, ReferenceFrames

TARGET_MS = 300.0
COLD_CODE = "292125"  # 宇陀市
PAGE_CODES = ("292125", "011002", "131016", "293857")  # 宇陀市, 札幌市, 千代田区, 奈良県曽爾村
INSPECTION_KINDS = ("定期点検", "臨時点検", "日常点検", "その他")  # same-day inspections need distinct kinds
BATCH = 50_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class PageTiming:
    label: str
    runs: list[float] = field(default_factory=list)  # seconds
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs) * 1000.0

    @property
    def max_ms(self) -> float:
        return max(self.runs) * 1000.0


# --- setup -------------------------------------------------------------------------------------------------
def setup_django(data_dir: str) -> None:
    """A fresh SQLite database in data_dir with the schema and the reference data (1,788 governments)."""
    os.environ["GUNMANE_DATA_DIR"] = data_dir
    os.environ.pop("GUNMANE_DATABASE_URL", None)
    os.environ["GUNMANE_ALLOWED_HOSTS"] = "testserver"
    os.environ["GUNMANE_DEBUG"] = "0"  # DEBUG would record every query
    os.environ["DJANGO_SETTINGS_MODULE"] = "gunmane.web.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from gunmane.web.registry.refdata import load_reference_data

    call_command("migrate", verbosity=0)
    load_reference_data()


def _column(values: np.ndarray) -> list[Any]:
    """A numpy column as Python values for the DB driver; NaN / NaT → None."""
    if values.dtype.kind == "M":
        text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D")
        return [None if t == "NaT" else t for t in text.tolist()]
    if values.dtype.kind == "f":
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out.tolist()
    return values.tolist()


def _insert(model: Any, columns: dict[str, Any], rows: int) -> None:
    """Plain INSERTs of `rows` rows; each column is a sequence of `rows` values or one constant."""
    from django.db import connection

    known = {f.column for f in model._meta.concrete_fields}
    unknown = set(columns) - known
    assert not unknown, f"not columns of {model._meta.db_table}: {unknown}"
    missing = {f.column for f in model._meta.concrete_fields if not f.null and f.column != "id"} - set(columns)
    assert not missing, f"NOT NULL columns left out of {model._meta.db_table}: {missing}"
    names = list(columns)
    data = [v if isinstance(v, list) else [v] * rows for v in columns.values()]
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) "
           f"VALUES ({', '.join(['%s'] * len(names))})")
    with connection.cursor() as cur:
        for start in range(0, rows, BATCH):
            cur.executemany(sql, zip(*(col[start:start + BATCH] for col in data), strict=True))


def load_nation(ledger: LedgerFrames) -> dict[str, int]:
    """Write the synthetic ledger into the database directly, with plain INSERTs in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from gunmane.web.registry.models import (
        Facility,
        FacilityType,
        Inspection,
        Measure,
        Municipality,
        Sector,
        bump_data_version,
    )

    manager = pd.Series(dict(Municipality.objects.values_list("lg_code", "id")))
    sector = pd.Series(dict(Sector.objects.values_list("code", "id")))
    ftype = pd.Series(dict(FacilityType.objects.values_list("code", "id")))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # Rows in the order a real database gets them (imports are per municipality): by manager. Two to three
    # times faster than random order, whose every INSERT lands on a random page of each (manager, …) index.
    manager_id = manager.reindex(ledger.facilities["lg_code"].to_numpy(dtype=object)).to_numpy(dtype="int64")
    order = np.lexsort((ledger.facilities["facility"].to_numpy(), manager_id))
    fac = ledger.facilities.iloc[order]
    n = len(fac)
    pk = pd.Series(np.arange(1, n + 1, dtype="int64"), index=fac["facility"].to_numpy())  # facility → id
    ins = ledger.inspections.assign(facility_id=pk.reindex(ledger.inspections["facility"]).to_numpy())
    mea = ledger.measures.assign(facility_id=pk.reindex(ledger.measures["facility"]).to_numpy())
    facility_columns = {
        "id": pk.tolist(),
        "manager_id": manager_id[order].tolist(),
        "facility_id": [f"SYN{i:07d}" for i in fac["facility"].tolist()],
        "national_id": "",
        "name": [f"合成施設{i:07d}" for i in fac["facility"].tolist()],
        "name_kana": "",
        "sector_id": sector.reindex(fac["sector"].to_numpy()).to_numpy(dtype="int64").tolist(),
        "facility_type_id": ftype.reindex(fac["facility_type"].to_numpy()).to_numpy(dtype="int64").tolist(),
        "built_year": _column(fac["built_year"].to_numpy()),
        "built_year_raw": "",
        "length_m": _column(fac["length_m"].to_numpy()),
        "area_m2": _column(fac["area_m2"].to_numpy()),
        "route": "", "address": "", "structure": "", "note": "", "attributes": "{}",
        "is_synthetic": True,
        "latest_grade": _column(fac["latest_grade"].to_numpy()),
        "latest_inspected_on": _column(fac["latest_inspected_on"].to_numpy()),
        "created_at": now, "updated_at": now,
    }
    ins = ins.sort_values(["facility_id", "inspected_on", "grade"], kind="stable")
    # (facility, inspected_on, kind) is unique: a second inspection on the same day gets another kind
    nth = ins.groupby(["facility_id", "inspected_on"], sort=False).cumcount().to_numpy()
    assert nth.max() < len(INSPECTION_KINDS)
    inspection_columns = {
        "facility_id": ins["facility_id"].tolist(),
        "inspected_on": _column(ins["inspected_on"].to_numpy()),
        "grade": ins["grade"].to_numpy().tolist(),
        "grade_raw": "", "inspector": "",
        "kind": np.array(INSPECTION_KINDS, dtype=object)[nth].tolist(),
        "source": "", "source_file": "",
    }
    measure_columns = {
        "facility_id": mea["facility_id"].tolist(),
        "kind": mea["kind"].astype(str).tolist(),
        "fiscal_year": mea["fiscal_year"].to_numpy().tolist(),
        "status": mea["status"].astype(str).tolist(),
        "note": "",
    }
    with transaction.atomic():
        _insert(Facility, facility_columns, n)
        _insert(Inspection, inspection_columns, len(ins))
        _insert(Measure, measure_columns, len(mea))
    bump_data_version()
    return {"facilities": n, "inspections": len(ins), "measures": len(mea)}


# --- pages -----------------------------------------------------------------------------------------------
def _client() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects
    user = users.filter(username="bench").first() or users.create_superuser("bench", "bench@example.invalid",
                                                                            "bench-password-1")
    client = Client()
    client.force_login(user)
    return client


def _get(client: Any, url: str, expect: str) -> float:
    t0 = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - t0
    body = response.content.decode("utf-8")
    if response.status_code != 200 or expect not in body:
        raise RuntimeError(f"GET {url}: status {response.status_code}, 「{expect}」 {'' if expect in body else 'not '}"
                           "found")
    return seconds


def municipality_names(codes: Iterable[str]) -> dict[str, str]:
    from gunmane.web.registry.models import Municipality

    return {m.lg_code: str(m) for m in Municipality.objects.filter(lg_code__in=list(codes))
            .select_related("prefecture")}


@dataclass
class PageResults:
    cold: PageTiming  # the first カルテ after the data changed: reads the ledger, builds the table
    first_visits: PageTiming  # each municipality's first カルテ (its karte built; the table cached)
    repeats: list[PageTiming]  # the same pages again and again (the karte cached too)
    national_first: PageTiming
    national: PageTiming
    cold_parts: list[PageTiming] = field(default_factory=list)  # where the cold request's time goes

    @property
    def all_repeats(self) -> PageTiming:
        return PageTiming(f"市区町村カルテ 再訪（上の {len(self.repeats)} ページの全リクエスト）",
                          [s for t in self.repeats for s in t.runs])

    def met(self) -> bool:
        return self.first_visits.median_ms < TARGET_MS and self.all_repeats.median_ms < TARGET_MS


def bench_pages(first_codes: Sequence[str], repeat_codes: Sequence[str], runs: int,
                national_runs: int) -> PageResults:
    """Cold first カルテ; first visits of many municipalities; repeat visits of a few; the national page."""
    from gunmane.web.registry import frames

    frames.clear_cache()
    client = _client()
    names = municipality_names([COLD_CODE, *first_codes, *repeat_codes])
    client.get("/")  # the process's first request (URLconf, middleware, base template) is not the point
    cold = PageTiming(f"/karte/{COLD_CODE}/ {names[COLD_CODE]} — 最初の1回（cold）",
                      [_get(client, f"/karte/{COLD_CODE}/", "合成データ")],
                      "データ変更後の最初のリクエスト：台帳全体を pandas に読み、全団体の表を作る（以後キャッシュ）。"
                      "このプロセスで最初のカルテの描画（テンプレートの読み込み等）も含む")
    log(f"  cold: {cold.median_ms:,.0f} ms")
    first = PageTiming(f"市区町村カルテ 初回（{len(first_codes)} 団体に1回ずつ）",
                       [_get(client, f"/karte/{code}/", "インフラ現状カルテ") for code in first_codes],
                       "全団体の表はキャッシュ済み；その団体の台帳を DB から読み、カルテを計算して描画")
    log(f"  first visits: median {first.median_ms:.0f} ms")
    repeats = []
    for code in repeat_codes:
        t = PageTiming(f"/karte/{code}/ {names[code]} — 再訪",
                       [_get(client, f"/karte/{code}/", "インフラ現状カルテ") for _ in range(runs)],
                       "カルテもキャッシュ済み：描画のみ")
        repeats.append(t)
        log(f"  {t.label}: median {t.median_ms:.0f} ms")
    national_first = PageTiming("/karte/ 全国 — 初回", [_get(client, "/karte/", "全国")],
                                "全国のカルテを計算（台帳と表はキャッシュ済み）")
    national = PageTiming("/karte/ 全国 — 再訪", [_get(client, "/karte/", "全国") for _ in range(national_runs)])
    log(f"  national: first {national_first.median_ms:,.0f} ms, then median {national.median_ms:.0f} ms")
    return PageResults(cold, first, repeats, national_first, national)


def cold_parts() -> list[PageTiming]:
    """The cold request's two big steps again, timed apart (clears the cache: call last)."""
    from django.utils import timezone

    from gunmane.engine.indicators import municipal_table
    from gunmane.web.registry import frames

    frames.clear_cache()
    key = frames.fingerprint()
    ref = frames.reference_frames(key)
    t0 = time.perf_counter()
    ledger = frames.ledger_frames(None, key)
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    municipal_table(ref, ledger, fiscal_year=frames.latest_fiscal_year(), as_of=timezone.localdate())
    table = time.perf_counter() - t0
    note = "cold の内訳：ページのあとでキャッシュを消して別に測定"
    return [PageTiming("　内訳：台帳全体を DB から pandas へ（frames.ledger_frames）", [read], note),
            PageTiming("　内訳：全団体の表（engine municipal_table）", [table], note)]


def page_codes(all_codes: Sequence[str], first_visits: int, seed: int) -> tuple[list[str], list[str]]:
    """Municipalities for first visits (the named ones, then a seeded random sample) and for repeats."""
    rng = np.random.default_rng(seed)
    others = [c for c in all_codes if c not in PAGE_CODES]
    sample = [str(c) for c in rng.choice(others, size=max(0, first_visits - len(PAGE_CODES) + 1), replace=False)]
    first = [c for c in PAGE_CODES if c != COLD_CODE] + sample
    return first, [*PAGE_CODES, *sample[:2]]


# --- the straightforward ORM loop --------------------------------------------------------------------------
def orm_indicators(muni: Any, as_of: date, five_year_types: Iterable[str]) -> dict[str, float | None]:
    """The ledger indicators of one municipality, the way one writes them with the ORM (a query each)."""
    from django.db.models import Count, Sum

    from gunmane.web.registry.models import Facility, Inspection

    fy = as_of.year if as_of.month >= 4 else as_of.year - 1
    try:
        cutoff = as_of.replace(year=as_of.year - 5)
    except ValueError:  # 29 Feb
        cutoff = as_of.replace(year=as_of.year - 5, day=28)
    qs = Facility.objects.filter(manager=muni)
    total = qs.count()
    if total == 0:
        return {"facilities": None}

    def share(num: int, den: int) -> float | None:
        return num / den * 100.0 if den else None

    out: dict[str, float | None] = {"facilities": total}
    sums = qs.aggregate(length=Sum("length_m"), n_length=Count("length_m"), area=Sum("area_m2"),
                        n_area=Count("area_m2"))
    out["facility_length_km"] = sums["length"] / 1000.0 if sums["n_length"] else None
    out["facility_area_m2"] = sums["area"] if sums["n_area"] else None
    known = qs.filter(built_year__isnull=False).count()
    out["unknown_built_year"] = total - known
    for key, years in (("age_50plus_share", 0), ("age_50plus_share_10y", 10), ("age_50plus_share_20y", 20)):
        out[key] = share(qs.filter(built_year__lte=fy + years - 50).count(), known)
    grades = dict(qs.filter(latest_grade__isnull=False).values_list("latest_grade").annotate(n=Count("id")))
    inspected = sum(grades.values())
    out["never_inspected"] = total - inspected
    out["grade_iii_iv_share"] = share(grades.get(3, 0) + grades.get(4, 0), inspected)
    five = qs.filter(facility_type__code__in=list(five_year_types))
    out["inspection_overdue"] = (five.filter(latest_inspected_on__lt=cutoff).count() if five.exists() else None)
    # 措置未着手: Ⅲ/Ⅳ now, no measure started (設計中/工事中/完了) in or after the fiscal year of the judgment
    # (the first inspection of the current Ⅲ/Ⅳ run)
    backlog = backlog_5y = 0
    for f in qs.filter(latest_grade__gte=3).prefetch_related("inspections", "measures"):
        history = sorted(f.inspections.all(), key=lambda i: (i.inspected_on, i.grade))
        judged = None
        for i in history:
            judged = (judged or i.inspected_on) if i.grade >= 3 else None
        if judged is None:
            continue
        judged_fy = judged.year if judged.month >= 4 else judged.year - 1
        if any(m.status != "未着手" and m.fiscal_year >= judged_fy for m in f.measures.all()):
            continue
        backlog += 1
        backlog_5y += judged <= cutoff
    out["backlog"] = backlog if inspected else None
    out["backlog_5y"] = backlog_5y if inspected else None
    judged_5y_ago = (Inspection.objects.filter(facility__manager=muni, grade__gte=3, inspected_on__lte=cutoff)
                     .values("facility").distinct().count())
    out["backlog_5y_share"] = share(backlog_5y, judged_5y_ago)
    return out


def bench_orm_loop(ref: ReferenceFrames, sample: Sequence[str], all_codes: Sequence[str], as_of: date,
                   fiscal_year: int) -> tuple[PageTiming, pd.DataFrame]:
    """The ORM loop over `sample`, then the peer and national percentiles of each; extrapolated to all."""
    from gunmane.engine.indicators import FIVE_YEAR_CYCLE_TYPES, peer_groups
    from gunmane.web.registry.models import Municipality

    t0 = time.perf_counter()
    rows = {m.lg_code: orm_indicators(m, as_of, FIVE_YEAR_CYCLE_TYPES)
            for m in Municipality.objects.filter(lg_code__in=list(sample))}
    values = pd.DataFrame.from_dict(rows, orient="index").astype("float64")
    # each page's position among its peers and in the nation (here among the sample: same cost)
    groups = peer_groups(ref, fiscal_year)
    peer_key = pd.Series({code: groups[code].key for code in values.index})
    values.groupby(peer_key).rank(pct=True, method="max")
    values.rank(pct=True, method="max")
    seconds = time.perf_counter() - t0
    per = seconds / len(sample)
    if len(sample) == len(all_codes):
        label, note = "（実測）", f"全団体で測定；1団体あたり {per * 1000:.0f} ms"
    else:
        label = "（外挿）"
        note = (f"{len(sample)} 団体で {seconds:.1f} 秒を測定し {len(all_codes):,} 団体に比例換算；"
                f"1団体あたり {per * 1000:.0f} ms")
    return PageTiming(f"ORM ループ：全 {len(all_codes):,} 団体の指標（パーセンタイルに必要）{label}",
                      [per * len(all_codes)], note), values


def compare_orm(table: pd.DataFrame, orm: pd.DataFrame) -> list[str]:
    """Indicators where the ORM loop and the page's cached table disagree (should be none)."""
    bad = []
    for col in orm.columns:
        a = table.loc[orm.index, col].to_numpy(dtype="float64")
        b = orm[col].to_numpy(dtype="float64")
        if not np.allclose(a, b, equal_nan=True, rtol=1e-9, atol=1e-9):
            bad.append(col)
    return bad


# --- report --------------------------------------------------------------------------------------------
def markdown(*, setup_seconds: dict[str, float], counts: dict[str, int], pages: PageResults,
             orm: PageTiming | None, mismatches: list[str] | None, municipalities: int, seed: int, as_of: date,
             fiscal_year: int, machine: str, when: str, command: str, load: str) -> str:
    first, repeats = pages.first_visits, pages.all_repeats
    lines = [
        f"Synthetic nation (合成データ, seed {seed}, every facility is_synthetic): {counts['facilities']:,} "
        f"facilities, {counts['inspections']:,} inspections, {counts['measures']:,} measures over the 1,741 real "
        "municipalities, written directly into a fresh SQLite database (temporary GUNMANE_DATA_DIR) with plain "
        f"INSERTs — setup, not measured: schema and reference data {setup_seconds['reference']:.0f} s, "
        f"nation {setup_seconds['build']:.0f} s, INSERTs {setup_seconds['insert']:.0f} s. Pages are requested "
        "with Django's test Client as a signed-in superuser, in-process (middleware, session, view, template; "
        f"no network), as the web does: as_of today ({as_of.isoformat()}), FY{fiscal_year}. One process pinned "
        "to one core. The web caches the all-municipality table and each カルテ in memory until the data "
        "version changes: *cold* is the first カルテ after a change, *初回* a municipality's first カルテ "
        "after that (the named ones, then a seeded random sample), *再訪* the same page again.",
        "",
        "| measurement | median (ms) | max (ms) | requests | note |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for t in [pages.cold, *pages.cold_parts, first, *pages.repeats, repeats, pages.national_first, pages.national]:
        lines.append(f"| {t.label} | {t.median_ms:,.0f} | {t.max_ms:,.0f} | {len(t.runs)} | {t.note} |")
    if orm is not None:
        lines.append(f"| {orm.label} | {orm.median_ms:,.0f} | — | — | {orm.note} |")
    verdict = "達成" if pages.met() else "未達"
    lines += ["", f"目標: 市区町村のカルテが中央値 {TARGET_MS:.0f} ms 未満 — **{verdict}**（初回 {first.median_ms:.0f} ms、"
                  f"再訪 {repeats.median_ms:.0f} ms）。最初の1回（cold）の {pages.cold.median_ms / 1000:.1f} 秒は"
                  "データが変わるたびに（1件の保存でもデータの版が上がる）次のカルテのリクエストに一度かかります"
                  + (f"；その大半は台帳全体の読み込み（内訳 {pages.cold_parts[0].median_ms / 1000:.1f} 秒）。"
                     if pages.cold_parts else "。")]
    if orm is not None:
        extrapolated = "（外挿）" if "外挿" in orm.label else ""
        lines += [
            "",
            "ORM ループ（エンジンなしに書く素朴な方法）: 団体ごとに ORM のクエリで台帳の指標を求める（施設数・延長・面積、"
            "建設後50年以上の割合（現在・10年後・20年後）、建設年度不明、最新の健全性の分布（台帳の latest_grade）、"
            "未点検、点検期限切れ、Ⅲ・Ⅳの施設を点検・措置ごと prefetch して措置未着手・判定後5年以上、その分母）、"
            "そのあと類似団体内・全国でのパーセンタイル。1ページの類似団体・全国での位置には全団体の値が要るので、"
            f"全 {municipalities:,} 団体分が1ページ分の計算です：約 "
            f"{orm.median_ms / 1000:,.0f} 秒{extrapolated} — カルテのページ初回の {orm.median_ms / first.median_ms:,.0f} 倍、"
            f"再訪の {orm.median_ms / repeats.median_ms:,.0f} 倍、cold の {orm.median_ms / pages.cold.median_ms:,.1f} 倍。",
        ]
    if mismatches is not None:
        lines.append("ORM ループとページの表（engine）の照合: " + (
            "標本の全団体で台帳の全指標が一致。" if not mismatches else f"不一致: {', '.join(mismatches)}"))
    lines += ["", f"Machine: {machine}; load average at start {load} (shared machine). Run {when}.",
              f"Command: `{command}`."]
    return "\n".join(lines)


def timed(label: str, fn: Callable[[], Any], seconds: dict[str, float]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    seconds[label] = time.perf_counter() - t0
    return out


def temp_data_dir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="gunmane-bench-web-"))
