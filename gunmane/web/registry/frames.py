"""The database as the engine's typed frames, cached until the data changes.

Reading 1,000,000 facilities into pandas takes seconds, so frames and the all-municipality table are
kept in memory keyed by a data fingerprint (row counts and latest change of every table the
indicators read); any import, edit or reload changes the fingerprint.

The national frames (every facility, the reference statistics, the default all-municipality table) are
rebuilt on the task queue (rebuild_national_frames, in `gunmane worker`), which stores them under
DATA_DIR/frames/; until they are ready a process that already holds older national frames keeps serving
those, and ``pending()`` says so (the カルテ pages show 「新しいデータで計算し直しています」). The fingerprint
ends with the data version of the national frames being served, so every figure cached from them is
recomputed when the new ones arrive. A process with no national frames yet (the first start, the CLI)
builds them itself, as before.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django_tasks import task

from gunmane.engine import indicators
from gunmane.engine.indicator_types import LedgerFrames, ReferenceFrames
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    Inspection,
    Measure,
    Municipality,
    MunicipalYearStats,
    Sector,
    data_version,
)

_lock = threading.Lock()
_cache: dict[tuple[str, tuple[Any, ...]], tuple[tuple[Any, ...], Any]] = {}
MAX_ENTRIES = 256
#: the builds under way: (kind, key, generation) → set when done (see cached)
_in_flight: dict[tuple[tuple[str, tuple[Any, ...]], tuple[Any, ...]], threading.Event] = {}

STAT_COLUMNS = ["population", "civil_engineering_expenditure", "total_expenditure", "road_length_m", "park_area_m2",
                "bridges_inspected", "bridges_need_repair", "fiscal_capability_index", "elderly_ratio",
                "civil_engineers"]


def data_fingerprint() -> tuple[Any, ...]:
    """O(1) summary that changes whenever indicator inputs change: the data version (bumped by imports,
    edits and reloads) and the newest row id of each ledger table (a safety net for any writer that
    forgets to bump)."""
    ids = tuple(model.objects.aggregate(m=Max("id"))["m"] for model in (Facility, Inspection, Measure,
                                                                         MunicipalYearStats))
    return (data_version(), *ids)


def fingerprint() -> tuple[Any, ...]:
    """The cache key of every figure: the data fingerprint, then the data version of the national frames
    served (the same, or the previous one while the worker rebuilds them)."""
    current = data_fingerprint()
    return (*current, _served_generation(current))


def pending() -> bool:
    """Whether the national figures served are older than the data (newer ones are being computed)."""
    key = fingerprint()
    return key[-1] != key[:-1]


# -- the national frames: built on the task queue, served stale until ready --------------------------------
_national: tuple[tuple[Any, ...], dict[str, Any]] | None = None  # (data fingerprint, stored national frames)
_asked: tuple[Any, ...] | None = None  # the fingerprint this process last asked the worker to build
_national_lock = threading.Lock()  # held while this process reads or builds the national frames


def _frames_dir() -> Path:
    path = Path(settings.DATA_DIR) / "frames"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sharing() -> bool:
    """Whether national frames are stored for other processes: with a worker (the database queue), not when
    tasks run inside the request (GUNMANE_TASKS=immediate, the tests), where this process holds them."""
    return bool(settings.GUNMANE_TASKS != "immediate")


def _stored(generation: tuple[Any, ...]) -> Path:
    return _frames_dir() / f"{hashlib.sha256(repr(generation).encode()).hexdigest()[:24]}.pickle"


def _ready(generation: tuple[Any, ...]) -> bool:
    held = _national
    return (held is not None and held[0] == generation) or (_sharing() and _stored(generation).exists())


def _served_generation(current: tuple[Any, ...]) -> tuple[Any, ...]:
    """The generation to serve: the current one when this process holds it or it is stored; else, in a
    process that holds older frames, those — after asking the worker to build the current ones."""
    global _asked
    held = _national
    if held is None or _ready(current):
        return current  # nothing older to serve (built here if needed), or ready
    if _asked != current:
        _asked = current
        jobs.start(rebuild_national_frames, kind="national_frames", subject="全国", version=jobs.version_of(current),
                   label="全国の集計表")
        if _ready(current):  # the immediate backend built them inside start()
            return current
    return held[0]


def _national_frames(generation: tuple[Any, ...]) -> dict[str, Any]:
    """The national frames of a generation: held, stored by the worker, or built here (first start, CLI)."""
    global _national
    with _lock:
        held = _national
    if held is not None and held[0] == generation:
        return held[1]
    # one thread reads or builds them; the others of this process wait for it (eight threads building the
    # national frames at once, right after a start, multiplied the memory and the wait)
    with _national_lock:
        held = _national
        if held is not None and held[0] == generation:
            return held[1]
        path = _stored(generation)
        if _sharing() and path.exists():
            with path.open("rb") as fh:
                value = pickle.load(fh)  # written by this program in its own data folder
        else:
            value = _build_national(generation)
        with _lock:
            _national = (generation, value)
    return value


def _build_national(generation: tuple[Any, ...], progress: jobs.Progress | None = None) -> dict[str, Any]:
    """Read the national frames and compute the default all-municipality table; store them for other processes."""
    def step(percent: int, message: str = "") -> None:
        if progress is not None:
            progress(percent, message)

    step(5, "公開統計を読み込んでいます。")
    ref = _reference()
    step(20, "全国の施設・点検・措置を読み込んでいます。")
    led = _ledger(None)
    step(60, "全市区町村の指標を計算しています。")
    fy, as_of = latest_fiscal_year(), timezone.localdate()
    table = indicators.municipal_table(ref, led, fiscal_year=fy, as_of=as_of, sector=None, facility_type=None)
    value = {"reference": ref, "ledger": led, "tables": {(None, None, fy, as_of): table}}
    if not _sharing():
        return value
    step(90, "計算結果を保存しています。")
    path = _stored(generation)
    # a name of its own (other processes may write the same generation at the same moment), then renamed:
    # no process ever reads a half-written file
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.", suffix=".part", delete=False) as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(fh.name, path)
    for old in sorted(_frames_dir().glob("*.pickle"), key=lambda p: p.stat().st_mtime)[:-2]:
        old.unlink(missing_ok=True)  # keep the newest two: the one served and the one just built
    return value


@task()
def rebuild_national_frames(job_id: str) -> None:
    """Build the national frames of the data as it is now (the worker: gunmane worker)."""

    def make(job: Job, progress: jobs.Progress) -> None:
        global _national
        current = data_fingerprint()
        if not _ready(current):
            value = _build_national(current, progress)
            with _lock:
                _national = (current, value)

    jobs.run(job_id, make)


def cached(kind: str, generation: tuple[Any, ...], key: tuple[Any, ...], build: Any) -> Any:
    """The value of (kind, key) for this data generation, built once; older generations are dropped.

    Built once also when many requests ask at the same moment (right after an import or an edit changes the
    generation): the first builds, the others wait for it instead of each building the same table — eight
    threads building at once took a server from 0.4 to 1.9 GB and its p95 past 100 s in the load test."""
    name = (kind, key)
    while True:
        with _lock:
            entry = _cache.get(name)
            if entry is not None and entry[0] == generation:
                return entry[1]
            flight = _in_flight.get((name, generation))
            if flight is None:
                flight = _in_flight[(name, generation)] = threading.Event()
                break
        flight.wait()  # then look again: normally the value is there; if its build failed, build it here
    try:
        value = build()
        with _lock:
            for stale in [k for k, (gen, _) in _cache.items() if gen != generation]:
                del _cache[stale]
            # keys can come from user input (budgets, parameters): keep the newest MAX_ENTRIES only
            while len(_cache) >= MAX_ENTRIES:
                del _cache[next(iter(_cache))]
            _cache[name] = (generation, value)
    finally:
        with _lock:
            del _in_flight[(name, generation)]
        flight.set()
    return value


def clear_cache() -> None:
    global _national, _asked
    with _lock:
        _cache.clear()
        _national = _asked = None


def _reference() -> ReferenceFrames:
    munis = pd.DataFrame.from_records(
        Municipality.objects.values_list("lg_code", "prefecture__code", "name", "kind", "population", "area_km2",
                                         "office_lat", "office_lon"),
        columns=["lg_code", "pref_code", "name", "kind", "population", "area_km2", "lat", "lon"],
    ).set_index("lg_code")
    stats = pd.DataFrame.from_records(
        MunicipalYearStats.objects.values_list("municipality__lg_code", "fiscal_year", *STAT_COLUMNS),
        columns=["lg_code", "fiscal_year", *STAT_COLUMNS],
    )
    for col in STAT_COLUMNS:
        stats[col] = pd.to_numeric(stats[col], errors="coerce").astype(float)
    munis["population"] = pd.to_numeric(munis["population"], errors="coerce").astype(float)
    return ReferenceFrames(municipalities=munis, stats=stats)


def _fetch(sql: str, params: list[Any], columns: list[str]) -> pd.DataFrame:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def _ledger(lg_codes: tuple[str, ...] | None) -> LedgerFrames:
    """All facilities (or those of the given managers) with their inspections and measures.

    Read with plain SQL, ids mapped to codes in pandas and dates read as text: for 1,000,000 facilities and
    2,000,000 inspections the joins and Django's per-value date converters cost more than the data itself
    (benchmarks/indicators.py --web).
    """
    f = Facility._meta.db_table
    managers = dict(Municipality.objects.values_list("id", "lg_code"))
    sectors = dict(Sector.objects.values_list("id", "code"))
    types = dict(FacilityType.objects.values_list("id", "code"))
    where, params = "", []
    if lg_codes is not None:
        ids = [i for i, code in managers.items() if code in set(lg_codes)]
        if not ids:
            return indicators.empty_ledger()
        where = f" WHERE f.manager_id IN ({', '.join(['%s'] * len(ids))})"
        params = ids
    fac = _fetch(
        f"SELECT f.id, f.manager_id, f.sector_id, f.facility_type_id, f.built_year, f.length_m, f.area_m2, "
        f"f.latest_grade, f.latest_band, CAST(f.latest_inspected_on AS TEXT), f.is_synthetic FROM {f} f{where}",
        params,
        ["facility", "lg_code", "sector", "facility_type", "built_year", "length_m", "area_m2", "latest_grade",
         "latest_band", "latest_inspected_on", "is_synthetic"],
    )
    fac["lg_code"] = fac["lg_code"].map(managers)
    fac["sector"] = fac["sector"].map(sectors)
    fac["facility_type"] = fac["facility_type"].map(types)
    for col in ("built_year", "length_m", "area_m2", "latest_grade", "latest_band"):
        fac[col] = pd.to_numeric(fac[col], errors="coerce").astype(float)
    fac["latest_inspected_on"] = pd.to_datetime(fac["latest_inspected_on"], errors="coerce", format="ISO8601")
    fac["is_synthetic"] = fac["is_synthetic"].astype(bool)
    join = f" JOIN {f} f ON f.id = x.facility_id{where}" if where else ""
    # grade: on the facility type's own scale; band: the common band the indicators compare sectors on
    ins = _fetch(f"SELECT x.facility_id, CAST(x.inspected_on AS TEXT), x.grade, x.band "
                 f"FROM {Inspection._meta.db_table} x{join}", params, ["facility", "inspected_on", "grade", "band"])
    ins["inspected_on"] = pd.to_datetime(ins["inspected_on"], errors="coerce", format="ISO8601")
    ins["grade"] = ins["grade"].astype(np.int64) if len(ins) else ins["grade"]
    ins["band"] = pd.to_numeric(ins["band"], errors="coerce").astype(float)
    mea = _fetch(f"SELECT x.facility_id, x.fiscal_year, x.kind, x.status FROM {Measure._meta.db_table} x{join}",
                 params, ["facility", "fiscal_year", "kind", "status"])
    return LedgerFrames(facilities=fac, inspections=ins, measures=mea)


def reference_frames(key: tuple[Any, ...] | None = None) -> ReferenceFrames:
    key = key or fingerprint()
    value: ReferenceFrames = _national_frames(key[-1])["reference"]
    return value


def ledger_frames(lg_codes: tuple[str, ...] | None = None, key: tuple[Any, ...] | None = None) -> LedgerFrames:
    if lg_codes is None:
        key = key or fingerprint()
        value: LedgerFrames = _national_frames(key[-1])["ledger"]
        return value
    return _ledger(tuple(sorted(set(lg_codes))))


def latest_fiscal_year() -> int:
    return MunicipalYearStats.objects.aggregate(y=Max("fiscal_year"))["y"] or 2024


def municipal_table(fiscal_year: int, as_of: date | None = None, *, sector: str | None = None,
                    facility_type: str | None = None) -> pd.DataFrame:
    """Every indicator for every municipality with peer and national percentiles (cached per filter)."""
    as_of = as_of or timezone.localdate()
    key = fingerprint()

    def build() -> pd.DataFrame:
        national = _national_frames(key[-1])
        if (stored := national["tables"].get((sector, facility_type, fiscal_year, as_of))) is not None:
            return stored  # computed by the worker with the frames
        return indicators.municipal_table(national["reference"], national["ledger"], fiscal_year=fiscal_year,
                                          as_of=as_of, sector=sector, facility_type=facility_type)

    return cached("table", key, (sector, facility_type, fiscal_year, as_of), build)
