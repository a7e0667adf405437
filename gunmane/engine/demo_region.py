"""Deterministic synthetic demo region (デモ地域の合成台帳).

The demo region is the Nara model region of MLIT's 群マネ model regions: 宇陀市, 曽爾村, 御杖村 and
東吉野村, with 奈良県 as observer. The municipalities and their statistics are real (reference data);
every facility, inspection and measure produced here is **synthetic** (合成データ): each facility dict
carries ``"is_synthetic": True`` and a note saying so, and names are made by combining generic words —
they are not taken from any list of real bridges.

What is calibrated (see ``docs/demo-region.md`` and ``DemoLedger.assumptions``):

1. the number of bridges per municipality and the number whose latest 判定区分 is Ⅲ/Ⅳ equal the real
   道路メンテナンス年報 figures carried by the reference data (exactly, at the default ``as_of``);
2. the age profile of bridges with a known 建設年度 follows MLIT's national figure for road bridges
   (share ≥ 50 years old: about 30 % in 2020, 55 % in 2030, 75 % in 2040);
3. inspections follow the statutory 5-year cycles (FY2014–2018, FY2019–2023, FY2024–), and grades
   never improve unless a completed measure lies between two inspections;
4. about 17 % of the bridges judged Ⅲ/Ⅳ in the first cycle have no measure started (措置未着手),
   close to the national figure for local governments.

Pure computation: no Django, no file I/O. Same seed → identical output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from gunmane.engine.calendar import fiscal_year

__all__ = [
    "NARA_DEMO_CODES",
    "NARA_OBSERVER_CODE",
    "DemoLedger",
    "DemoMunicipalitySpec",
    "generate_demo_ledger",
    "load_specs_from_reference",
]

NARA_DEMO_CODES: tuple[str, ...] = ("292125", "293857", "293865", "294535")
NARA_OBSERVER_CODE = "290009"

DEFAULT_SEED = 20251001
DEFAULT_AS_OF = date(2025, 3, 31)

# Statutory inspection cycles for road bridges/tunnels (道路法施行規則, in force since July 2014).
CYCLE_1_START = 2014  # FY2014–2018
CYCLE_2_START = 2019  # FY2019–2023
CYCLE_3_START = 2024  # FY2024–
MODEL_LAST_FY = 2024  # the last fiscal year the synthetic timeline covers

SYNTHETIC_NOTE = "合成データ（デモ用の架空の施設）"

# --- calibration parameters (each one is stated in the assumptions list) ---------------------------

# Known-year bridges by construction band: ≤1970, 1971–1980, 1981–1990, 1991–2018. MLIT's national
# figure (share ≥ 50 years: ~30 % in 2020, ~55 % in 2030, ~75 % in 2040) fixes the cumulative shares
# 0.30 / 0.55 / 0.75; cities are tilted slightly younger and towns/villages older, so that the Nara
# region pools to the national figure.
AGE_BANDS: tuple[tuple[int, int], ...] = ((1920, 1970), (1971, 1980), (1981, 1990), (1991, 2018))
BAND_SHARES_CITY: tuple[float, ...] = (0.27, 0.25, 0.21, 0.27)
BAND_SHARES_RURAL: tuple[float, ...] = (0.34, 0.25, 0.19, 0.22)
UNKNOWN_YEAR_SHARE_CITY = 0.20
UNKNOWN_YEAR_SHARE_RURAL = 0.30

# Share of the Ⅲ/Ⅳ bridges (latest judgment) that were already Ⅲ/Ⅳ in the first cycle.
PERSISTENT_SHARE = 0.60
# Bridges judged Ⅲ in the first cycle and repaired before their next inspection, relative to K.
REPAIRED_RATIO = 0.68
# Of the first-cycle Ⅲ/Ⅳ bridges: untouched (national local-government figure ≈ 17 %) and completed
# only after their latest inspection.
UNTOUCHED_SHARE = 0.17
DONE_AFTER_SHARE = 0.05
IV_SHARE = 0.04  # of the Ⅲ/Ⅳ bridges, the share judged Ⅳ

# Inspection months of municipal contracts (field work mostly in the second half of the fiscal year).
_MONTH_WEIGHTS: dict[int, float] = {
    4: 0.0, 5: 0.5, 6: 2.0, 7: 5.0, 8: 7.0, 9: 9.0, 10: 12.0, 11: 13.0, 12: 10.0, 1: 10.0, 2: 8.0, 3: 3.0,
}
# Share of bridges whose inspection falls in each year of a cycle (offset 0..4).
_CYCLE_OFFSET_WEIGHTS = (0.12, 0.20, 0.22, 0.23, 0.23)

# Generic, invented name parts (not a list of real bridges).
_NAME_PREFIXES: tuple[str, ...] = (
    "椿", "萩", "桐", "楓", "柊", "樫", "栃", "榎", "欅", "桂", "藤", "蛍", "鷺", "鶴", "若葉",
    "朝霧", "夕凪", "月見", "星見", "白露", "青葉", "紅葉", "山吹", "笹", "葛", "茜", "萌木", "菖蒲", "木賊", "芹",
)
_NAME_SUFFIXES: tuple[str, ...] = ("谷", "瀬", "沢", "淵", "原", "平", "尾", "畑", "坂", "台", "野", "口", "里", "森")

# Fictional contractors (lettered, as MLIT's own case studies write "A社").
_BRIDGE_CONSULTANTS: tuple[str, ...] = ("(株)Aコンサルタント", "(株)B技術設計", "(株)C橋梁エンジニアリング")
_TUNNEL_CONSULTANT = "(株)D建設コンサルタント"
_PARK_INSPECTOR = "(株)E公園施設サービス"
_SEWER_INSPECTOR = "(株)F管路調査"
_DIRECT = "職員直営"

# 宇陀市 consists of the four former towns/village merged in 2006; the office stands in 榛原.
_DISTRICTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    # (district, bearing from, bearing to) — bearings in degrees clockwise from north, from the office.
    "292125": (("室生", 0.0, 120.0), ("菟田野", 120.0, 190.0), ("大宇陀", 190.0, 270.0), ("榛原", 270.0, 360.0)),
}
_CENTRAL_DISTRICT: dict[str, str] = {"292125": "榛原"}

_PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)

# Unit costs (thousand yen) — assumption — synthetic; see the assumptions list.
_COST_RULES: dict[str, tuple[float, float, float, float]] = {
    # kind: (fixed, per m² of deck, minimum, maximum)
    "修繕": (3_000.0, 110.0, 5_000.0, 80_000.0),
    "補強": (5_000.0, 150.0, 8_000.0, 120_000.0),
    "更新": (15_000.0, 550.0, 20_000.0, 600_000.0),
    "撤去": (3_000.0, 60.0, 4_000.0, 60_000.0),
    "集約": (8_000.0, 60.0, 9_000.0, 65_000.0),
}


@dataclass(frozen=True)
class DemoMunicipalitySpec:
    """One real municipality of the demo region and the real statistics that calibrate it."""

    lg_code: str  # 6-digit 団体コード
    name: str
    office_lat: float
    office_lon: float
    area_km2: float
    bridges: int  # real bridges_inspected from the reference data (FY2024 row)
    bridges_iii_iv: int  # real bridges_need_repair
    road_length_m: float | None
    park_area_m2: float | None


@dataclass
class DemoLedger:
    """Synthetic ledger rows (canonical export keys) and the assumptions behind them."""

    facilities: list[dict[str, object]]
    inspections: list[dict[str, object]]
    measures: list[dict[str, object]]
    assumptions: list[str]  # Japanese sentences describing calibration targets and sources


# --------------------------------------------------------------------------------------------------
# small helpers


def _fiscal_year(d: date) -> int:
    """年度 (April–March) of a date."""
    return fiscal_year(d)


def _fy_end(fy: int) -> date:
    return date(fy + 1, 3, 31)


def _kind_suffix(name: str) -> str:
    return name[-1:] if name[-1:] in ("市", "町", "村", "区") else ""


def _is_city(spec: DemoMunicipalitySpec) -> bool:
    return _kind_suffix(spec.name) in ("市", "区")


def _road_prefix(spec: DemoMunicipalitySpec) -> str:
    suffix = _kind_suffix(spec.name)
    return f"{suffix}道" if suffix in ("市", "町", "村", "区") else "道"


def _prefecture_name(lg_code: str) -> str:
    pref = int(lg_code[:2])
    return _PREFECTURES[pref - 1] if 1 <= pref <= 47 else ""


def _largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``shares`` (largest remainder method)."""
    s = sum(shares)
    raw = [total * x / s for x in shares]
    parts = [math.floor(r) for r in raw]
    rest = total - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in order[:rest]:
        parts[i] += 1
    return parts


def _year_weight(y: int) -> float:
    """Relative construction activity by year (shape within a band; bands are fixed by shares)."""
    if y < 1955:
        return 0.25
    if y < 1965:
        return 1.0
    if y < 1981:
        return 1.8
    if y < 1996:
        return 1.5
    if y < 2006:
        return 0.9
    return 0.35


def _draw_years(rng: np.random.Generator, lo: int, hi: int, n: int) -> list[int]:
    years = np.arange(lo, hi + 1)
    w = np.array([_year_weight(int(y)) for y in years], dtype=float)
    return [int(y) for y in rng.choice(years, size=n, p=w / w.sum())]


def _weekday(d: date, end: date) -> date:
    """Move a weekend date to the next Monday (or back to Friday if that leaves the fiscal year)."""
    if d.weekday() < 5:
        return d
    fwd = d + timedelta(days=7 - d.weekday())
    return fwd if fwd <= end else d - timedelta(days=d.weekday() - 4)


def _survey_start(rng: np.random.Generator, fy: int) -> date:
    months = list(_MONTH_WEIGHTS)
    w = np.array([_MONTH_WEIGHTS[m] for m in months], dtype=float)
    m = int(months[int(rng.choice(len(months), p=w / w.sum()))])
    year = fy if m >= 4 else fy + 1
    return date(year, m, int(rng.integers(1, 29)))


def _field_date(rng: np.random.Generator, start: date, fy: int, spread_days: int = 15) -> date:
    end = _fy_end(fy)
    d = min(start + timedelta(days=int(rng.integers(0, spread_days))), end)
    return _weekday(d, end)


def _round_cost(x: float) -> float:
    return float(round(x / 10.0) * 10.0)


def _cost(rng: np.random.Generator, kind: str, area_m2: float) -> float:
    fixed, per_m2, lo, hi = _COST_RULES[kind]
    x = (fixed + per_m2 * area_m2) * float(rng.lognormal(0.0, 0.25))
    if x < lo:  # small works still cost at least the minimum (design, mobilisation), not one flat value
        x = lo * float(rng.uniform(1.0, 1.25))
    elif x > hi:
        x = hi * float(rng.uniform(0.85, 1.0))
    return _round_cost(x)


class _Geo:
    """Scatter points around the office inside a disc of the municipality's area (km ↔ degrees)."""

    def __init__(self, spec: DemoMunicipalitySpec) -> None:
        self.lat0 = spec.office_lat
        self.lon0 = spec.office_lon
        self.radius_km = math.sqrt(max(spec.area_km2, 0.01) / math.pi)
        self._km_per_deg_lat = 110.574
        self._km_per_deg_lon = 111.320 * math.cos(math.radians(spec.office_lat))

    def clamp(self, x: float, y: float, limit: float = 0.95) -> tuple[float, float]:
        r = math.hypot(x, y)
        rmax = self.radius_km * limit
        if r <= rmax or r == 0.0:
            return x, y
        return x * rmax / r, y * rmax / r

    def random_xy(self, rng: np.random.Generator, within: float = 0.9) -> tuple[float, float]:
        r = self.radius_km * within * math.sqrt(float(rng.random()))
        t = float(rng.uniform(0.0, 2.0 * math.pi))
        return r * math.cos(t), r * math.sin(t)

    def latlon(self, x: float, y: float) -> tuple[float, float]:
        return (
            round(self.lat0 + y / self._km_per_deg_lat, 6),
            round(self.lon0 + x / self._km_per_deg_lon, 6),
        )


class _Names:
    """Unique generic place-like words for one municipality."""

    def __init__(self, rng: np.random.Generator) -> None:
        words = [p + s for p in _NAME_PREFIXES for s in _NAME_SUFFIXES]
        order = rng.permutation(len(words))
        self._pool = [words[int(i)] for i in order]
        self._used: set[str] = set()
        self._n = 0

    def word(self) -> str:
        while self._pool:
            w = self._pool.pop()
            if w not in self._used:
                self._used.add(w)
                return w
        self._n += 1  # pool exhausted (very large municipality): numbered words stay unique
        return f"第{self._n}地区"


@dataclass
class _Route:
    name: str
    stem: str
    cx: float
    cy: float
    angle: float
    half_len: float
    offset: int  # inspection year within each cycle (0..4)
    next_no: int = 1


@dataclass
class _MeasurePlan:
    facility_id: str
    kind: str
    trigger: date  # the judgment that called for the measure
    planned_fy: int
    design_fy: int | None = None
    work_fy: int | None = None
    done_fy: int | None = None
    cost: float | None = None


@dataclass
class _Muni:
    """Working state for one municipality."""

    spec: DemoMunicipalitySpec
    seed: int
    as_of: date
    geo: _Geo = field(init=False)
    names: _Names = field(init=False)
    routes: list[_Route] = field(default_factory=list)
    facilities: list[dict[str, object]] = field(default_factory=list)
    inspections: list[dict[str, object]] = field(default_factory=list)
    plans: list[_MeasurePlan] = field(default_factory=list)
    windows: dict[tuple[str, int, int], date] = field(default_factory=dict)
    contractors: dict[tuple[str, int], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.geo = _Geo(self.spec)
        self.names = _Names(self.rng(0))

    def rng(self, stream: int) -> np.random.Generator:
        """An independent stream per municipality and purpose (order of specs does not matter)."""
        return np.random.default_rng([self.seed, int(self.spec.lg_code), stream])

    # --- places

    def address(self, x: float, y: float, word: str) -> str:
        spec = self.spec
        base = f"{_prefecture_name(spec.lg_code)}{spec.name}"
        districts = _DISTRICTS.get(spec.lg_code)
        if districts:
            if math.hypot(x, y) < 0.3 * self.geo.radius_km:
                district = _CENTRAL_DISTRICT[spec.lg_code]
            else:
                bearing = math.degrees(math.atan2(x, y)) % 360.0
                district = next(d for d, lo, hi in districts if lo <= bearing < hi)
            return f"{base}{district}{word}地内"
        return f"{base}大字{word}地内"

    def on_route(self, rng: np.random.Generator, route: _Route) -> tuple[float, float]:
        t = float(rng.uniform(-1.0, 1.0))
        x = route.cx + t * route.half_len * math.cos(route.angle) + float(rng.normal(0.0, 0.15))
        y = route.cy + t * route.half_len * math.sin(route.angle) + float(rng.normal(0.0, 0.15))
        return self.geo.clamp(x, y)

    # --- inspections

    def inspection_date(self, rng: np.random.Generator, batch: str, fy: int, group: int) -> date:
        key = (batch, fy, group)
        if key not in self.windows:
            self.windows[key] = _survey_start(rng, fy)
        return _field_date(rng, self.windows[key], fy)

    def contractor(self, rng: np.random.Generator, batch: str, fy: int, choices: Sequence[str]) -> str:
        key = (batch, fy)
        if key not in self.contractors:
            self.contractors[key] = choices[int(rng.integers(0, len(choices)))]
        return self.contractors[key]

    def add_inspection(self, facility_id: str, when: date, grade: int, inspector: str) -> None:
        if when > self.as_of:
            return
        self.inspections.append({
            "lg_code": self.spec.lg_code,
            "facility_id": facility_id,
            "inspected_on": when,
            "grade": int(grade),
            "inspector": inspector,
            "kind": "定期点検",
        })

    def add_facility(self, **values: object) -> dict[str, object]:
        row: dict[str, object] = {
            "lg_code": self.spec.lg_code,
            "facility_id": values["facility_id"],
            "name": values["name"],
            "sector": values["sector"],
            "facility_type": values["facility_type"],
            "built_year": values.get("built_year"),
            "length_m": values.get("length_m"),
            "width_m": values.get("width_m"),
            "area_m2": values.get("area_m2"),
            "lat": values["lat"],
            "lon": values["lon"],
            "route": values.get("route", ""),
            "address": values["address"],
            "structure": values.get("structure", ""),
            "note": SYNTHETIC_NOTE + (f"。{values['note']}" if values.get("note") else ""),
            "is_synthetic": True,
        }
        self.facilities.append(row)
        return row

    def measure_rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        seen: set[tuple[str, int, str]] = set()
        for plan in self.plans:
            row = _measure_record(self.spec.lg_code, plan, self.as_of)
            if row is None:
                continue
            key = (plan.facility_id, int(str(row["fiscal_year"])), plan.kind)
            if key in seen:  # the importer's natural key; never emit a duplicate
                continue
            seen.add(key)
            rows.append(row)
        return rows


def _measure_record(lg_code: str, plan: _MeasurePlan, as_of: date) -> dict[str, object] | None:
    """The measure's state at ``as_of`` (完了 only once its fiscal year has ended)."""
    if plan.trigger > as_of:
        return None
    current = _fiscal_year(as_of)
    if plan.done_fy is not None and _fy_end(plan.done_fy) <= as_of:
        status, fy = "完了", plan.done_fy
    elif plan.work_fy is not None and plan.work_fy <= current:
        status, fy = "工事中", plan.work_fy
    elif plan.design_fy is not None and plan.design_fy <= current:
        status, fy = "設計中", plan.design_fy
    else:
        status, fy = "未着手", plan.planned_fy
    return {
        "lg_code": lg_code,
        "facility_id": plan.facility_id,
        "fiscal_year": int(fy),
        "kind": plan.kind,
        "status": status,
        "cost_thousand_yen": plan.cost,
    }


# --------------------------------------------------------------------------------------------------
# bridges


@dataclass
class _Bridge:
    fid: str
    route: int
    true_year: int
    known: bool
    length: float
    width: float
    area: float
    offset: int
    theta: float  # age at which the bridge turns from Ⅰ to Ⅱ
    key: float = 0.0  # deterioration ranking key (older → larger)
    fys: list[int] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    grades: list[int] = field(default_factory=list)

    def good_grade(self, fy: int) -> int:
        return 2 if fy - self.true_year >= self.theta else 1

    @property
    def has_c1(self) -> bool:
        return bool(self.fys) and self.fys[0] < CYCLE_2_START


def _bridge_structure(rng: np.random.Generator, length: float, year: int) -> str:
    if length < 4.0:
        options: tuple[str, ...] = ("ボックスカルバート", "RC床版橋")
    elif length < 15.0:
        options = ("RC床版橋", "RC単純T桁橋", "鋼単純H桁橋") if year < 1965 else (
            "RC床版橋", "PCプレテンション床版橋", "鋼単純H桁橋", "RC床版橋")
    elif length < 40.0:
        options = ("RC単純T桁橋", "鋼単純I桁橋") if year < 1965 else (
            "PC単純T桁橋", "PC単純ホロー桁橋", "鋼単純I桁橋")
    else:
        options = ("鋼単純トラス橋", "鋼単純I桁橋") if year < 1970 else (
            "鋼連続I桁橋", "PC連続箱桁橋", "PC単純T桁橋")
    return options[int(rng.integers(0, len(options)))]


def _make_routes(m: _Muni, rng: np.random.Generator, n_bridges: int) -> None:
    n_routes = max(1, math.ceil(n_bridges / 6))
    prefix = _road_prefix(m.spec)
    scale = max(0.5, m.geo.radius_km / 5.0)
    for _ in range(n_routes):
        stem = m.names.word()
        cx, cy = m.geo.random_xy(rng, 0.8)
        m.routes.append(_Route(
            name=f"{prefix}{stem}線", stem=stem, cx=cx, cy=cy,
            angle=float(rng.uniform(0.0, math.pi)), half_len=float(rng.uniform(0.4, 1.6)) * scale,
            offset=int(rng.choice(5, p=np.array(_CYCLE_OFFSET_WEIGHTS))),
        ))


def _generate_bridges(m: _Muni, *, want_edge: bool, want_new_bridge: bool) -> dict[str, int]:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    """Bridges with their inspection histories and measures; returns counters for the assumptions."""
    spec = m.spec
    n = spec.bridges
    k_bad = spec.bridges_iii_iv
    if n == 0:
        return {}
    rng = m.rng(1)
    _make_routes(m, rng, n)
    city = _is_city(spec)

    # 建設年度: unknown share, then exact band allocation of the known years.
    n_unknown = round(n * (UNKNOWN_YEAR_SHARE_CITY if city else UNKNOWN_YEAR_SHARE_RURAL))
    unknown = set(int(i) for i in rng.choice(n, size=n_unknown, replace=False))
    known_idx = [i for i in range(n) if i not in unknown]
    band_counts = _largest_remainder(len(known_idx), BAND_SHARES_CITY if city else BAND_SHARES_RURAL)
    years_known: list[int] = []
    for (lo, hi), c in zip(AGE_BANDS, band_counts, strict=True):
        years_known.extend(_draw_years(rng, lo, hi, c))
    perm = rng.permutation(len(years_known))
    year_of: dict[int, int] = {known_idx[j]: years_known[int(perm[j])] for j in range(len(known_idx))}
    # Unknown-year bridges are old small bridges whose records were lost: a hidden year drives their
    # deterioration but is never exported.
    hidden = _draw_years(rng, 1925, 1975, len(unknown))
    for i, hy in zip(sorted(unknown), hidden, strict=True):
        year_of[i] = hy

    bridges: list[_Bridge] = []
    for i in range(n):
        route_idx = int(rng.integers(0, len(m.routes)))
        offset = m.routes[route_idx].offset if rng.random() < 0.85 else int(rng.choice(5, p=np.array(_CYCLE_OFFSET_WEIGHTS)))
        length = float(rng.lognormal(math.log(5.0 if i in unknown else 8.0), 0.75))
        length = round(min(180.0, max(2.0, length)), 1)
        width = float(rng.uniform(3.0, 6.0)) if length < 5.0 else float(np.clip(rng.normal(5.5, 1.2), 3.0, 9.5))
        width = round(width, 1)
        bridges.append(_Bridge(
            fid=f"BR-{i + 1:04d}", route=route_idx, true_year=year_of[i], known=i not in unknown,
            length=length, width=width, area=round(length * width, 1), offset=offset,
            theta=float(rng.normal(40.0, 12.0)),
        ))

    new_bridge_id = ""
    if want_new_bridge:
        # Edge case: a bridge opened in FY2016, after its first-cycle year, so first inspected in cycle 2.
        young = [b for b in bridges if b.known and b.true_year >= AGE_BANDS[3][0]]
        if young:
            young[0].true_year = 2016
            young[0].offset = 1
            new_bridge_id = young[0].fid

    # Inspection years and dates (batched by route and fiscal year, one contractor per fiscal year).
    for b in bridges:
        for start in (CYCLE_1_START, CYCLE_2_START, CYCLE_3_START):
            fy = start + b.offset
            if fy > MODEL_LAST_FY or fy <= b.true_year:
                continue
            when = m.inspection_date(rng, "bridge", fy, b.route)
            if when > m.as_of:
                continue
            b.fys.append(fy)
            b.dates.append(when)

    # Deterioration ranking: older bridges are much more likely to be Ⅲ/Ⅳ (Gumbel-top-k sampling).
    for b in bridges:
        b.key = (MODEL_LAST_FY - b.true_year) / 14.0 + float(rng.gumbel())
    by_key = sorted(bridges, key=lambda b: b.key, reverse=True)
    bad = by_key[:k_bad]
    bad_ids = {b.fid for b in bad}
    persistent = [b for b in bad if b.has_c1][: round(PERSISTENT_SHARE * k_bad)]
    persistent_ids = {b.fid for b in persistent}
    repaired = [b for b in by_key if b.fid not in bad_ids and b.has_c1][: round(REPAIRED_RATIO * k_bad)]
    repaired_ids = {b.fid for b in repaired}
    first_cycle_bad = len(persistent) + len(repaired)

    # Status groups of the persistent bridges (judged Ⅲ/Ⅳ in cycle 1, still Ⅲ/Ⅳ at the latest inspection).
    n_untouched = min(len(persistent), round(UNTOUCHED_SHARE * first_cycle_bad))
    n_done_after = round(DONE_AFTER_SHARE * first_cycle_bad)
    order = [persistent[int(i)] for i in rng.permutation(len(persistent))]
    done_after = [b for b in order if b.fys[-1] < MODEL_LAST_FY][:n_done_after]
    done_ids = {b.fid for b in done_after}
    rest = [b for b in order if b.fid not in done_ids]
    untouched = rest[:n_untouched]
    in_progress = rest[n_untouched:]
    iv_ids = {b.fid for b in sorted(in_progress, key=lambda b: b.key, reverse=True)[: round(IV_SHARE * k_bad)]}
    edge_id = ""
    if want_edge and untouched:
        edge_id = min(untouched, key=lambda b: b.dates[0]).fid
    untouched_ids = {b.fid for b in untouched}

    for b in bridges:
        route = m.routes[b.route]
        x, y = m.on_route(rng, route)
        lat, lon = m.geo.latlon(x, y)
        if rng.random() < 0.5:
            name = f"{route.stem}{route.next_no}号橋"
            route.next_no += 1
        else:
            name = f"{m.names.word()}橋"
        note = ""
        grades: list[int] = []
        fid = b.fid
        if fid in persistent_ids:
            is_iv = fid in iv_ids
            first = 4 if (is_iv and rng.random() < 0.5) else 3
            grades = [first] + [4 if is_iv else 3] * (len(b.fys) - 1)
            plan = _persistent_plan(rng, b, fid, done=fid in done_ids, untouched=fid in untouched_ids,
                                    is_iv=is_iv, rural=not _is_city(spec))
            if is_iv:
                note = "健全性Ⅳにより通行止め中"
            if fid == edge_id:
                note = "1巡目でⅢ判定後、措置計画が未登録（措置未着手のエッジケース）"
            elif plan is not None:
                m.plans.append(plan)
        elif fid in bad_ids:
            grades, plan = _new_bad_history(rng, b)
            if plan is not None:
                m.plans.append(plan)
        elif fid in repaired_ids:
            grades, plan = _repaired_history(rng, b)
            m.plans.append(plan)
        else:
            grades = [b.good_grade(fy) for fy in b.fys]
        if fid == new_bridge_id and not b.has_c1:
            note = note or "2016年度供用の新設橋（2巡目で初回の定期点検）"
        b.grades = grades
        for fy, when, g in zip(b.fys, b.dates, grades, strict=True):
            inspector = m.contractor(rng, "bridge", fy, _BRIDGE_CONSULTANTS)
            if not city and fy >= CYCLE_2_START and b.length < 5.0:
                inspector = _DIRECT  # villages inspect small bridges themselves since cycle 2
            m.add_inspection(fid, when, g, inspector)
        m.add_facility(
            facility_id=fid, name=name, sector="道路", facility_type="橋梁",
            built_year=b.true_year if b.known else None, length_m=b.length, width_m=b.width, area_m2=b.area,
            lat=lat, lon=lon, route=route.name,
            address=m.address(x, y, route.stem),
            structure=_bridge_structure(rng, b.length, b.true_year), note=note,
        )

    return {
        "first_cycle_bad": first_cycle_bad,
        "untouched": len(untouched),
        "repaired": len(repaired),
        "iv": len(iv_ids),
        "unknown": len(unknown),
    }


def _persistent_plan(rng: np.random.Generator, b: _Bridge, fid: str, *, done: bool, untouched: bool,
                     is_iv: bool, rural: bool) -> _MeasurePlan | None:
    """The measure of a bridge judged Ⅲ/Ⅳ in cycle 1 and still Ⅲ/Ⅳ at its latest inspection."""
    trigger = b.dates[0]
    if done:
        # Completed only after the latest inspection: the latest judgment still reads Ⅲ.
        last = b.fys[-1]
        c = int(rng.integers(last + 1, MODEL_LAST_FY + 1))
        kind = "補強" if rng.random() < 0.15 else "修繕"
        return _MeasurePlan(fid, kind, trigger, planned_fy=c, design_fy=c - 1, work_fy=c, done_fy=c,
                            cost=_cost(rng, kind, b.area))
    if untouched:
        r = float(rng.random())
        kind = "修繕" if r < 0.75 else ("撤去" if r < 0.85 else ("集約" if r < 0.95 else "更新"))
        cost = _cost(rng, kind, b.area) if rng.random() < 0.7 else None  # 概算未算定 for some
        return _MeasurePlan(fid, kind, trigger, planned_fy=int(rng.integers(2025, 2029)), cost=cost)
    if is_iv:
        kind = ("撤去" if rng.random() < 0.6 else "更新") if rural else ("更新" if rng.random() < 0.6 else "撤去")
    else:
        r = float(rng.random())
        kind = "修繕" if r < 0.7 else ("補強" if r < 0.8 else ("更新" if r < 0.9 else "集約"))
    if rng.random() < 0.55:  # 工事中 in the last modelled year
        return _MeasurePlan(fid, kind, trigger, planned_fy=MODEL_LAST_FY, design_fy=MODEL_LAST_FY - 1,
                            work_fy=MODEL_LAST_FY, done_fy=MODEL_LAST_FY + 1, cost=_cost(rng, kind, b.area))
    design = int(rng.integers(MODEL_LAST_FY - 1, MODEL_LAST_FY + 1))
    work = int(rng.integers(MODEL_LAST_FY + 1, MODEL_LAST_FY + 3))
    return _MeasurePlan(fid, kind, trigger, planned_fy=work, design_fy=design, work_fy=work, done_fy=work,
                        cost=_cost(rng, kind, b.area))


def _new_bad_history(rng: np.random.Generator, b: _Bridge) -> tuple[list[int], _MeasurePlan | None]:
    """A bridge that turned Ⅲ in cycle 2 (or, when inspected in FY2024, possibly in cycle 3)."""
    grades: list[int] = []
    has_c3 = b.fys[-1] >= CYCLE_3_START
    new_in_c3 = has_c3 and len(b.fys) >= 2 and rng.random() < 0.5
    for fy in b.fys:
        if fy < CYCLE_2_START:
            grades.append(2 if rng.random() < 0.8 else 1)
        elif fy < CYCLE_3_START:
            grades.append(2 if new_in_c3 else 3)
        else:
            grades.append(3)
    grades = [max(grades[: i + 1]) for i in range(len(grades))]  # never improve without a measure
    if new_in_c3 or not any(g >= 3 for g in grades):
        return grades, None  # judged in FY2024: the measure plan is still being prepared
    judged = next(i for i, g in enumerate(grades) if g >= 3)
    trigger = b.dates[judged]
    t = b.fys[judged]
    r = float(rng.random())
    kind = "修繕" if rng.random() < 0.85 else "補強"
    cost = _cost(rng, kind, b.area)
    if r < 0.15:
        plan = _MeasurePlan(b.fid, kind, trigger, planned_fy=MODEL_LAST_FY, design_fy=max(t, MODEL_LAST_FY - 1),
                            work_fy=MODEL_LAST_FY, done_fy=MODEL_LAST_FY + 1, cost=cost)
    elif r < 0.50:
        design = int(rng.integers(max(t, MODEL_LAST_FY - 1), MODEL_LAST_FY + 1))
        work = int(rng.integers(MODEL_LAST_FY + 1, MODEL_LAST_FY + 3))
        plan = _MeasurePlan(b.fid, kind, trigger, planned_fy=work, design_fy=design, work_fy=work, done_fy=work,
                            cost=cost)
    else:
        plan = _MeasurePlan(b.fid, kind, trigger, planned_fy=int(rng.integers(2025, 2030)),
                            cost=cost if rng.random() < 0.7 else None)
    return grades, plan


def _repaired_history(rng: np.random.Generator, b: _Bridge) -> tuple[list[int], _MeasurePlan]:
    """Judged Ⅲ in cycle 1, repaired (完了) before the next inspection, then Ⅰ/Ⅱ."""
    t1 = b.fys[0]
    t_next = b.fys[1] if len(b.fys) > 1 else t1 + 5
    c = int(rng.integers(t1 + 1, min(t1 + 3, t_next - 1) + 1))
    after = 1 if rng.random() < 0.5 else 2
    grades = [3] + [after] * (len(b.fys) - 1)
    kind = "補強" if rng.random() < 0.15 else "修繕"
    plan = _MeasurePlan(b.fid, kind, b.dates[0], planned_fy=c, design_fy=max(t1, c - 1), work_fy=c, done_fy=c,
                        cost=_cost(rng, kind, b.area))
    return grades, plan


# --------------------------------------------------------------------------------------------------
# other facilities


def _cycled_history(rng: np.random.Generator, fys: Sequence[int], first: Sequence[float], p_up: float,
                    p_repair: float, max_grade: int = 3) -> tuple[list[int], list[tuple[int, int]]]:
    """Grades over inspections that only worsen, except after a repair completed between two of them.

    Returns the grades and the repairs as (index of the judging inspection, completion fiscal year).
    """
    grades: list[int] = []
    repairs: list[tuple[int, int]] = []
    g = int(rng.choice(np.arange(1, len(first) + 1), p=np.array(first) / sum(first)))
    repaired_before = False
    for i, fy in enumerate(fys):
        if i > 0:
            if repaired_before:
                g = 1 if rng.random() < 0.5 else 2
                repaired_before = False
            elif rng.random() < p_up:
                g = min(max_grade, g + 1)
        grades.append(g)
        if g >= 3 and i + 1 < len(fys) and fys[i + 1] - fy >= 2 and rng.random() < p_repair:
            c = int(rng.integers(fy + 1, fys[i + 1]))
            repairs.append((i, c))
            repaired_before = True
    return grades, repairs


def _pending_plan(rng: np.random.Generator, fid: str, trigger: date, kind: str, cost: float | None) -> _MeasurePlan:
    r = float(rng.random())
    if r < 0.3:
        return _MeasurePlan(fid, kind, trigger, planned_fy=MODEL_LAST_FY, design_fy=MODEL_LAST_FY - 1,
                            work_fy=MODEL_LAST_FY, done_fy=MODEL_LAST_FY + 1, cost=cost)
    if r < 0.6:
        return _MeasurePlan(fid, kind, trigger, planned_fy=MODEL_LAST_FY + 1, design_fy=MODEL_LAST_FY,
                            work_fy=MODEL_LAST_FY + 1, done_fy=MODEL_LAST_FY + 1, cost=cost)
    return _MeasurePlan(fid, kind, trigger, planned_fy=int(rng.integers(2025, 2029)), cost=cost)


def _road_structures(m: _Muni) -> None:
    """Tunnels, pedestrian overpasses and large culverts on the statutory cycles."""
    spec = m.spec
    rng = m.rng(2)
    city = _is_city(spec)
    n_tunnels = round(spec.area_km2 / 70.0)
    n_overpass = 2 if city else 0
    n_culverts = 2 if city else round(spec.area_km2 / 100.0)
    if not m.routes:
        _make_routes(m, rng, 6)
    kinds: list[tuple[str, str, int]] = (
        [("トンネル", "TN", i) for i in range(n_tunnels)]
        + [("横断歩道橋", "PB", i) for i in range(n_overpass)]
        + [("大型カルバート", "CV", i) for i in range(n_culverts)]
    )
    for ftype, prefix, i in kinds:
        fid = f"{prefix}-{i + 1:03d}"
        route = m.routes[int(rng.integers(0, len(m.routes)))]
        if ftype == "トンネル":
            built = int(rng.integers(1960, 2013))
            length = round(float(rng.uniform(80.0, 600.0)), 1)
            width = round(float(rng.uniform(7.0, 9.0)) if built >= 1985 else float(rng.uniform(5.0, 6.5)), 1)
            structure = "NATM" if built >= 1985 else "矢板工法"
            name = f"{m.names.word()}トンネル"
            first, p_up, p_rep = (0.1, 0.5, 0.4), 0.25, 0.6
            x, y = m.on_route(rng, route)
            inspector_pool: Sequence[str] = (_TUNNEL_CONSULTANT,)
        elif ftype == "横断歩道橋":
            built = int(rng.integers(1966, 1981))
            length = round(float(rng.uniform(18.0, 32.0)), 1)
            width = round(float(rng.uniform(1.5, 2.5)), 1)
            structure = "鋼単純桁（横断歩道橋）"
            name = f"{m.names.word()}横断歩道橋"
            first, p_up, p_rep = (0.2, 0.6, 0.2), 0.2, 0.6
            x, y = m.geo.random_xy(rng, 0.2)
            inspector_pool = _BRIDGE_CONSULTANTS
        else:
            built = int(rng.integers(1970, 2006))
            length = round(float(rng.uniform(10.0, 40.0)), 1)
            width = round(float(rng.uniform(4.0, 8.0)), 1)
            structure = "ボックスカルバート" if rng.random() < 0.7 else "ボックスカルバート（2連）"
            name = f"{m.names.word()}カルバート"
            first, p_up, p_rep = (0.4, 0.5, 0.1), 0.15, 0.6
            x, y = m.on_route(rng, route)
            inspector_pool = _BRIDGE_CONSULTANTS
        offset = int(rng.choice(5, p=np.array(_CYCLE_OFFSET_WEIGHTS)))
        fys: list[int] = []
        dates: list[date] = []
        for start in (CYCLE_1_START, CYCLE_2_START, CYCLE_3_START):
            fy = start + offset
            if fy > MODEL_LAST_FY or fy <= built:
                continue
            when = m.inspection_date(rng, prefix, fy, i)
            if when > m.as_of:
                continue
            fys.append(fy)
            dates.append(when)
        grades, repairs = _cycled_history(rng, fys, first, p_up, p_rep)
        area = round(length * width, 1)
        repair_kind = "修繕"
        for idx, c in repairs:
            m.plans.append(_MeasurePlan(fid, repair_kind, dates[idx], planned_fy=c, design_fy=max(fys[idx], c - 1),
                                        work_fy=c, done_fy=c, cost=_structure_cost(rng, ftype, length, area)))
        if grades and grades[-1] >= 3:
            m.plans.append(_pending_plan(rng, fid, dates[-1], repair_kind, _structure_cost(rng, ftype, length, area)))
        for fy, when, g in zip(fys, dates, grades, strict=True):
            m.add_inspection(fid, when, g, m.contractor(rng, prefix, fy, inspector_pool))
        lat, lon = m.geo.latlon(x, y)
        m.add_facility(
            facility_id=fid, name=name, sector="道路", facility_type=ftype, built_year=built,
            length_m=length, width_m=width, area_m2=area, lat=lat, lon=lon, route=route.name,
            address=m.address(x, y, route.stem), structure=structure,
        )


def _structure_cost(rng: np.random.Generator, ftype: str, length: float, area: float) -> float:
    if ftype == "トンネル":  # はく落対策・漏水対策: per metre of tunnel
        return _round_cost(min(150_000.0, max(10_000.0, (5_000.0 + 90.0 * length) * float(rng.lognormal(0, 0.25)))))
    return _cost(rng, "修繕", area)


def _pavement(m: _Muni) -> None:
    """Pavement sections of the main municipal roads, one inspection (舗装点検要領 診断区分Ⅰ〜Ⅲ) in cycle 2."""
    spec = m.spec
    if not spec.road_length_m or not m.routes:
        return
    rng = m.rng(3)
    n = min(40, round(spec.road_length_m / 1000.0 * 0.03))
    for i in range(n):
        fid = f"PV-{i + 1:03d}"
        route = m.routes[i % len(m.routes)]
        length = round(float(rng.uniform(500.0, 2500.0)), 0)
        width = round(float(rng.uniform(5.5, 7.5)), 1)
        area = round(length * width, 0)
        built: int | None = int(rng.integers(1980, 2016)) if rng.random() < 0.6 else None
        x, y = m.on_route(rng, route)
        fy = CYCLE_2_START + int(rng.integers(0, 5))
        when = m.inspection_date(rng, "PV", fy, 0)
        g = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.20]))
        if when <= m.as_of:
            m.add_inspection(fid, when, g, m.contractor(rng, "PV", fy, (_BRIDGE_CONSULTANTS[1], _DIRECT)))
            if g >= 3:
                cost = _round_cost(area * 6.5 * float(rng.lognormal(0, 0.15)))  # 切削オーバーレイ 6.5千円/m²
                if fy < MODEL_LAST_FY and rng.random() < 0.4:
                    c = int(rng.integers(fy + 1, MODEL_LAST_FY + 1))
                    m.plans.append(_MeasurePlan(fid, "修繕", when, planned_fy=c, work_fy=c, done_fy=c, cost=cost))
                else:
                    m.plans.append(_pending_plan(rng, fid, when, "修繕", cost))
        lat, lon = m.geo.latlon(x, y)
        m.add_facility(
            facility_id=fid, name=f"{route.name} 舗装 第{i // len(m.routes) + 1}区間", sector="道路",
            facility_type="舗装", built_year=built, length_m=float(length), width_m=width, area_m2=float(area),
            lat=lat, lon=lon, route=route.name, address=m.address(x, y, route.stem),
            structure="アスファルト舗装",
        )


_PLAY_TYPES: tuple[tuple[str, str], ...] = (
    ("すべり台", "鋼製"), ("ブランコ", "鋼製"), ("鉄棒", "鋼製"), ("砂場", "コンクリート枠"),
    ("複合遊具", "鋼製・FRP複合"), ("ジャングルジム", "鋼製"), ("スプリング遊具", "FRP"), ("シーソー", "鋼製"),
)


def _play_equipment(m: _Muni, *, want_uninspected: bool) -> None:
    """公園遊具, scaled by 公園面積 (1 per 20,000 m²); A–D 健全度 mapped onto 1–4."""
    spec = m.spec
    if not spec.park_area_m2:
        return
    n = min(60, round(spec.park_area_m2 / 20_000.0))
    if n == 0:
        return
    rng = m.rng(4)
    parks: list[tuple[str, float, float]] = []
    for _ in range(max(1, round(n / 3))):
        x, y = m.geo.random_xy(rng, 0.5)
        parks.append((f"{m.names.word()}公園", x, y))
    for i in range(n):
        fid = f"PL-{i + 1:03d}"
        park, px, py = parks[i % len(parks)]
        ptype, material = _PLAY_TYPES[int(rng.integers(0, len(_PLAY_TYPES)))]
        x, y = m.geo.clamp(px + float(rng.normal(0, 0.03)), py + float(rng.normal(0, 0.03)))
        new = want_uninspected and i == n - 1
        built: int | None = 2024 if new else (int(rng.integers(1975, 2019)) if rng.random() < 0.8 else None)
        note = "2024年度設置、定期点検は未実施（未点検のエッジケース）" if new else ""
        if not new:
            fys = [2019, 2024]
            dates = [m.inspection_date(rng, "PL", fy, 0) for fy in fys]
            grades, repairs = _cycled_history(rng, fys, (0.3, 0.45, 0.2, 0.05), 0.3, 0.5, max_grade=4)
            for idx, c in repairs:
                m.plans.append(_MeasurePlan(fid, "修繕", dates[idx], planned_fy=c, work_fy=c, done_fy=c,
                                            cost=_round_cost(float(rng.uniform(300.0, 2_500.0)))))
            if grades[-1] >= 3:
                kind = "撤去" if grades[-1] == 4 else "更新"
                if grades[-1] == 4:
                    note = "健全度D：使用禁止中"
                m.plans.append(_pending_plan(rng, fid, dates[-1], kind, _round_cost(float(rng.uniform(500.0, 6_000.0)))))
            for fy, when, g in zip(fys, dates, grades, strict=True):
                m.add_inspection(fid, when, g, m.contractor(rng, "PL", fy, (_PARK_INSPECTOR,)))
        lat, lon = m.geo.latlon(x, y)
        m.add_facility(
            facility_id=fid, name=f"{park} {ptype}", sector="公園", facility_type="遊具", built_year=built,
            length_m=None, width_m=None, area_m2=None, lat=lat, lon=lon, route="",
            address=m.address(x, y, park.removesuffix("公園")), structure=material, note=note,
        )


def _sluices(m: _Muni, *, want_uninspected: bool) -> None:
    """河川 樋門・樋管 of the municipality's 準用河川/普通河川; one inspection in FY2022 (4-level rating → 1–4)."""
    spec = m.spec
    rng = m.rng(5)
    n = 3 if _is_city(spec) else 1
    for i in range(n):
        fid = f"GT-{i + 1:03d}"
        river = f"{m.names.word()}川"
        built = int(rng.integers(1960, 1996))
        x, y = m.geo.random_xy(rng, 0.9)
        never = want_uninspected and i == n - 1
        note = "点検記録なし（未点検のエッジケース）" if never else ""
        if not never:
            when = m.inspection_date(rng, "GT", 2022, 0)
            g = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
            m.add_inspection(fid, when, g, _DIRECT)
            if g >= 3:
                m.plans.append(_pending_plan(rng, fid, when, "修繕", _round_cost(float(rng.uniform(2_000.0, 15_000.0)))))
        lat, lon = m.geo.latlon(x, y)
        m.add_facility(
            facility_id=fid, name=f"{river}第{i + 1}樋管", sector="河川", facility_type="樋門・樋管",
            built_year=built, length_m=round(float(rng.uniform(8.0, 25.0)), 1),
            width_m=round(float(rng.uniform(1.0, 3.0)), 1), area_m2=None, lat=lat, lon=lon, route="",
            address=m.address(x, y, river.removesuffix("川")),
            structure="RC函渠（鋼製スライドゲート）" if rng.random() < 0.6 else "RC函渠（鋼製ローラーゲート）",
            note=note,
        )


def _sewers(m: _Muni) -> None:
    """下水道 管渠 (cities only: the villages of the demo region have no public sewerage)."""
    if not _is_city(m.spec):
        return
    rng = m.rng(6)
    trunks = [f"{m.names.word()}幹線" for _ in range(3)]
    for i in range(10):
        fid = f"SW-{i + 1:03d}"
        trunk = trunks[i % len(trunks)]
        built = int(rng.integers(1988, 2011))
        diameter = int(rng.choice([250, 300, 400, 500, 600, 800]))
        material = "鉄筋コンクリート管" if diameter >= 400 else "硬質塩化ビニル管"
        length = round(float(rng.uniform(150.0, 600.0)), 1)
        x, y = m.geo.random_xy(rng, 0.3)
        note = "" if built <= 2000 else "布設後の経過年数が短く、TVカメラ調査は未実施"
        if built <= 2000:  # TVカメラ調査 in FY2021: 劣化なし/緊急度Ⅲ/Ⅱ/Ⅰ → 1/2/3/4
            when = m.inspection_date(rng, "SW", 2021, 0)
            g = int(rng.choice([1, 2, 3, 4], p=[0.45, 0.40, 0.13, 0.02]))
            m.add_inspection(fid, when, g, _SEWER_INSPECTOR)
            if g >= 3:
                m.plans.append(_pending_plan(rng, fid, when, "修繕", _round_cost(length * float(rng.uniform(60.0, 120.0)))))
        lat, lon = m.geo.latlon(x, y)
        m.add_facility(
            facility_id=fid, name=f"{trunk} 第{i // len(trunks) + 1}区間", sector="下水道", facility_type="管渠",
            built_year=built, length_m=length, width_m=diameter / 1000.0, area_m2=None, lat=lat, lon=lon,
            route="", address=m.address(x, y, trunk.removesuffix("幹線")), structure=f"{material} φ{diameter}mm",
            note=note,
        )


# --------------------------------------------------------------------------------------------------
# public API


def _validate(specs: Sequence[DemoMunicipalitySpec]) -> None:
    seen: set[str] = set()
    for s in specs:
        if len(s.lg_code) != 6 or not s.lg_code.isdigit():
            raise ValueError(f"団体コードは6桁の数字で指定してください: {s.lg_code!r}")
        if s.lg_code in seen:
            raise ValueError(f"団体コードが重複しています: {s.lg_code}")
        seen.add(s.lg_code)
        if s.bridges < 0 or s.bridges_iii_iv < 0 or s.bridges_iii_iv > s.bridges:
            raise ValueError(
                f"{s.name}（{s.lg_code}）: 橋梁数 {s.bridges} と Ⅲ・Ⅳ判定数 {s.bridges_iii_iv} の組合せが不正です"
            )
        if s.area_km2 <= 0:
            raise ValueError(f"{s.name}（{s.lg_code}）: 面積は正の値で指定してください: {s.area_km2}")


def generate_demo_ledger(specs: Sequence[DemoMunicipalitySpec], *, seed: int = DEFAULT_SEED,
                         as_of: date = DEFAULT_AS_OF) -> DemoLedger:
    """Generate the synthetic facility ledger (合成台帳) of a demo region.

    Every facility is synthetic (``is_synthetic`` True). Records dated after ``as_of`` are left out and
    measure states are those at ``as_of``; the bridge calibration (exact Ⅲ/Ⅳ counts) holds for the
    default ``as_of`` (end of FY2024), which closes the modelled timeline.
    """
    _validate(specs)
    if seed < 0:
        raise ValueError(f"乱数シードは0以上の整数で指定してください: {seed}")
    facilities: list[dict[str, object]] = []
    inspections: list[dict[str, object]] = []
    measures: list[dict[str, object]] = []
    stats: dict[str, dict[str, int]] = {}
    edge_done = False
    new_bridge_done = False
    uninspected_done = False
    for spec in specs:
        m = _Muni(spec, seed, as_of)
        counters = _generate_bridges(m, want_edge=not edge_done, want_new_bridge=not new_bridge_done)
        if counters.get("untouched", 0) > 0:
            edge_done = True
        if spec.bridges > 0:
            new_bridge_done = True
        _road_structures(m)
        _pavement(m)
        _play_equipment(m, want_uninspected=not uninspected_done)
        _sluices(m, want_uninspected=not uninspected_done)
        uninspected_done = True
        _sewers(m)
        facilities.extend(m.facilities)
        inspections.extend(sorted(m.inspections, key=lambda r: (str(r["facility_id"]), str(r["inspected_on"]))))
        measures.extend(sorted(m.measure_rows(), key=lambda r: (str(r["facility_id"]), int(str(r["fiscal_year"])))))
        stats[spec.lg_code] = counters
    return DemoLedger(facilities, inspections, measures, _assumptions(specs, seed, as_of, stats))


def _assumptions(specs: Sequence[DemoMunicipalitySpec], seed: int, as_of: date,
                 stats: Mapping[str, Mapping[str, int]]) -> list[str]:
    counts = "、".join(f"{s.name} {s.bridges}橋（うちⅢ・Ⅳ {s.bridges_iii_iv}橋）" for s in specs)
    c1 = sum(v.get("first_cycle_bad", 0) for v in stats.values())
    untouched = sum(v.get("untouched", 0) for v in stats.values())
    return [
        "施設・点検・措置のデータはすべてデモ用に生成した合成データであり、実在の施設を表すものではない"
        "（各施設に is_synthetic=True と備考「合成データ」を付す）。施設名は一般的な語の組合せで作成し、"
        "実在の橋梁名簿は使用していない。団体とその統計値（人口・面積・庁舎位置・橋梁数など）は実データである。",
        f"乱数シード {seed}、基準日 {as_of.isoformat()}。同じシード・基準日・団体からは常に同一のデータが生成される。",
        f"橋梁数と最新判定がⅢ・Ⅳの橋梁数は、参照データ（国土交通省「道路メンテナンス年報」橋梁点検結果、"
        f"Ina299/local_gov_vis による集計、2024年度の行）に一致させた：{counts}。",
        "建設年度が判明している橋梁の年齢構成は、国土交通省「社会資本の老朽化の現状と将来」の道路橋の値"
        "（建設後50年以上の割合：2020年3月 約30%、2030年3月 約55%、2040年3月 約75%、建設年度不明を除く）"
        "に地域全体で合わせた（https://www.mlit.go.jp/sogoseisaku/maintenance/02research/02_01.html）。"
        "ここでは年齢＝年−建設年度とし、市は全国値よりやや新しく、町村はやや古く配分した。",
        "建設年度不明の橋梁の割合は、市で20%、町村で30%と仮定した（小規模団体の台帳では記録のない古い小橋が"
        "多いため。仮定 — 合成）。不明の橋梁は1925〜1975年頃の架設として劣化を模擬している。",
        "定期点検は道路法施行規則（2014年7月施行）の5年に1回の頻度に従い、1巡目を2014〜2018年度、"
        "2巡目を2019〜2023年度、3巡目を2024年度開始とした。点検月は市町村発注の実態を踏まえ夏〜冬に多く配分した。",
        "健全性は点検のたびに悪化するか据え置きで、改善するのは2回の点検の間に完了した措置（修繕・補強）がある"
        "場合に限る（措置後はⅠまたはⅡ）。古い橋梁ほどⅢ・Ⅳになりやすい。",
        f"1巡目でⅢ・Ⅳと判定された橋梁 {c1}橋のうち {untouched}橋を措置未着手とした。全国の地方公共団体の値"
        "（国土交通省「道路メンテナンス年報」2023年度：1巡目Ⅲ・Ⅳ橋梁の措置着手率 約83%、未着手 約17%）を参照し、"
        "完了 約58%、設計中・工事中 約25% と仮定した。",
        "措置費用（千円）は仮定の単価による — assumption — synthetic：修繕 3,000千円＋110千円/m²（5,000〜80,000千円）、"
        "補強 5,000千円＋150千円/m²、更新 15,000千円＋550千円/m²、撤去 3,000千円＋60千円/m²、"
        "集約 8,000千円＋60千円/m²（橋面積あたり、ばらつき±25%程度）。舗装の切削オーバーレイは6.5千円/m²。",
        "トンネル数は面積70km²あたり1本、横断歩道橋は市のみ2橋、大型カルバートは市2基・町村は面積100km²あたり1基、"
        "舗装の点検区間は道路実延長の3%を約1kmの区間に分割、公園遊具は公園面積2万m²あたり1基（上限60基）、"
        "樋門・樋管は市3基・町村1基、下水道管渠は公共下水道のある市のみ10区間とした（仮定 — 合成）。",
        "分野別の評価は健全性1〜4に対応づけた：舗装は診断区分Ⅰ〜Ⅲ、公園遊具は健全度A〜D、樋門・樋管は4段階評価、"
        "下水道管渠は劣化なし・緊急度Ⅲ・Ⅱ・Ⅰを順に1〜4とした（仮定）。",
    ]


def _text(row: Mapping[str, str], key: str) -> str:
    return (row.get(key) or "").strip()


def _float_or_none(value: str) -> float | None:
    return float(value) if value else None


def load_specs_from_reference(
    municipalities_csv_rows: Iterable[Mapping[str, str]],
    finance_rows: Iterable[Mapping[str, str]],
    codes: Sequence[str] = NARA_DEMO_CODES,
    fiscal_year: int = 2024,
) -> list[DemoMunicipalitySpec]:
    """Build demo specs from reference rows (csv.DictReader rows of the two reference CSVs).

    ``municipalities_csv_rows``: rows of ``jp-municipalities/municipalities.csv``;
    ``finance_rows``: rows of ``jp-municipal-finance-infra/municipal_finance_infra_2020_2024.csv``.
    The specs come back in the order of ``codes``.
    """
    wanted = [c.strip().zfill(6) for c in codes]
    wanted_set = set(wanted)
    munis: dict[str, Mapping[str, str]] = {}
    for row in municipalities_csv_rows:
        code = _text(row, "lgcode6").zfill(6)
        if code in wanted_set:
            munis[code] = row
    finance: dict[str, Mapping[str, str]] = {}
    for row in finance_rows:
        code = _text(row, "lgcode6").zfill(6)
        if code in wanted_set and _text(row, "fiscal_year") == str(fiscal_year):
            finance[code] = row
    specs: list[DemoMunicipalitySpec] = []
    for code in wanted:
        mrow = munis.get(code)
        if mrow is None:
            raise ValueError(f"団体コード {code} が市区町村一覧（municipalities.csv）にありません")
        frow = finance.get(code)
        if frow is None:
            raise ValueError(f"団体コード {code} の {fiscal_year} 年度の行が財政・インフラデータにありません")
        bridges = _text(frow, "bridges_inspected")
        need = _text(frow, "bridges_need_repair")
        if not bridges or not need:
            raise ValueError(f"{_text(mrow, 'name')}（{code}）の {fiscal_year} 年度の橋梁数が空欄です（不明）")
        area = _text(mrow, "area_km2") or _text(frow, "area_km2")
        if not area:
            raise ValueError(f"{_text(mrow, 'name')}（{code}）の面積が空欄です")
        specs.append(DemoMunicipalitySpec(
            lg_code=code,
            name=_text(mrow, "name"),
            office_lat=float(_text(mrow, "office_lat")),
            office_lon=float(_text(mrow, "office_lng")),
            area_km2=float(area),
            bridges=int(float(bridges)),
            bridges_iii_iv=int(float(need)),
            road_length_m=_float_or_none(_text(frow, "road_length_m")),
            park_area_m2=_float_or_none(_text(frow, "park_area_m2")),
        ))
    return specs
