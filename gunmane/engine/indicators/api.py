"""municipal_table (every indicator for every municipality, with peers) and karte (one scope, with series)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from gunmane.engine import calendar
from gunmane.engine.indicator_types import (
    IndicatorValue,
    Karte,
    LedgerFrames,
    ReferenceFrames,
    Scope,
    ScopeKind,
    Series,
)
from gunmane.engine.indicators.definitions import (
    AGE_THRESHOLD,
    FACILITY_TYPE_NAMES,
    INDICATORS,
    INSPECTION_CYCLE_YEARS,
    NATIONAL_BACKLOG_5Y_SHARE,
    PROJECTION_END,
    SECTOR_NAMES,
    SRC_FINANCE,
    SRC_LEDGER,
    SRC_POPULATION,
)
from gunmane.engine.indicators.frames import whole_years_between
from gunmane.engine.indicators.ledger import FacilityState, facility_state, ledger_counts, ledger_values
from gunmane.engine.indicators.reference import aggregate, components, fy_trend
from gunmane.engine.peers import MUNICIPAL_KINDS, municipal_codes, peer_groups, peer_keys
from gunmane.engine.scale_labels import BAND_LABEL, BAND_NAMES, grade_short
from gunmane.engine.scales import Scale

Filter = str | Collection[str] | None
IDS: tuple[str, ...] = tuple(d.id for d in INDICATORS)
INFO_COLUMNS = ("name", "pref_code", "kind", "peer_key", "peer_label", "lat", "lon", "has_ledger", "synthetic")


# --- scopes ------------------------------------------------------------------------------------------
def _code6(code: str | int) -> str:
    return str(code).strip().zfill(6)


def national_scope(ref: ReferenceFrames) -> Scope:
    """全国: all municipalities (reference sums over municipal rows; ledger also counts prefectures' own)."""
    return Scope(ScopeKind.NATIONAL, "national", "全国", tuple(municipal_codes(ref)))


def prefecture_scope(ref: ReferenceFrames, pref_code: str | int) -> Scope:
    """A prefecture: its municipalities, plus (for ledger indicators) the prefecture government's facilities."""
    pc = str(pref_code).strip()
    pc = pc[:2] if len(pc) == 6 else pc.zfill(2)
    m = ref.municipalities
    own = m[(m["kind"] == "prefecture") & (m["pref_code"].astype(str) == pc)]
    members = m.index[(m["pref_code"].astype(str) == pc).to_numpy() & m["kind"].isin(MUNICIPAL_KINDS).to_numpy()]
    if own.empty and len(members) == 0:
        raise ValueError(f"都道府県コード {pc} は参照データにありません（01〜47 の2桁で指定してください）。")
    name = str(own["name"].iat[0]) if not own.empty else str(m.loc[members[0], "pref_name"])
    return Scope(ScopeKind.PREFECTURE, pc, name, tuple(members))


def municipality_scope(ref: ReferenceFrames, lg_code: str | int) -> Scope:
    """One municipality (市区町村). A prefecture's code is refused: use prefecture_scope."""
    code = _code6(lg_code)
    m = ref.municipalities
    if code not in m.index:
        raise ValueError(f"団体コード {code} は参照データにありません（合併等で廃止されたコードの可能性があります）。")
    if m.at[code, "kind"] == "prefecture":
        raise ValueError(f"団体コード {code} は都道府県です。都道府県のカルテは prefecture_scope で作成してください。")
    return Scope(ScopeKind.MUNICIPALITY, code, str(m.at[code, "name"]), (code,))


def group_scope(name: str, lg_codes: Iterable[str | int], ref: ReferenceFrames) -> Scope:
    """A group (群) of local governments; a prefecture member contributes its own ledger facilities only."""
    codes = list(dict.fromkeys(_code6(c) for c in lg_codes))
    missing = [c for c in codes if c not in ref.municipalities.index]
    if missing:
        raise ValueError(f"群「{name}」の団体コード {'、'.join(missing)} は参照データにありません"
                         "（合併等で廃止されたコードの可能性があります）。")
    if not codes:
        raise ValueError(f"群「{name}」に構成団体がありません。")
    return Scope(ScopeKind.GROUP, name, name, tuple(codes))


MIN_COMPARABLE = 5  # fewest known values for a percentile to be shown

# --- municipal table ---------------------------------------------------------------------------------
def municipal_table(ref: ReferenceFrames, ledger: LedgerFrames, *, fiscal_year: int, as_of: date,
                    sector: Filter = None, facility_type: Filter = None) -> pd.DataFrame:
    """Every indicator for every municipality (index lg_code; prefecture governments excluded).

    Columns: name, pref_code, kind, peer_key, peer_label, lat, lon, has_ledger, synthetic, then per indicator
    `id` (NaN = unknown), `id__n`, `id__peer_pct`, `id__national_pct` (share of known values ≤ this one,
    pandas rank(pct=True, method="max") × 100). Data-quality notes are in `table.attrs["notes"]`.
    """
    codes = municipal_codes(ref)
    mun = ref.municipalities.loc[codes]
    peers = peer_keys(ref, fiscal_year)
    values = aggregate(components(ref, fiscal_year), np.arange(len(codes)), len(codes))
    state = facility_state(ledger, ref.municipalities.index, as_of, sector=sector, facility_type=facility_type)
    to_muni = np.full(len(ref.municipalities), -1, dtype="int64")
    to_muni[ref.municipalities.index.get_indexer(codes)] = np.arange(len(codes))
    counts = ledger_counts(state, to_muni[state.owner], len(codes))
    values.update(ledger_values(counts))

    info = pd.DataFrame({
        "name": mun["name"].to_numpy(), "pref_code": mun["pref_code"].to_numpy(), "kind": mun["kind"].to_numpy(),
        "peer_key": peers["peer_key"].to_numpy(), "peer_label": peers["peer_label"].to_numpy(),
        "lat": mun["lat"].to_numpy(dtype="float64"), "lon": mun["lon"].to_numpy(dtype="float64"),
        "has_ledger": counts["facilities"] > 0, "synthetic": counts["synthetic"] > 0,
    }, index=codes)
    vals = pd.DataFrame({i: values[i][0] for i in IDS}, index=codes)
    ns = pd.DataFrame({f"{i}__n": values[i][1] for i in IDS}, index=codes)
    peer_pct, nat_pct = _percentiles(vals, info["peer_key"])
    table = pd.concat([info, vals, ns, peer_pct, nat_pct], axis=1)
    order = list(INFO_COLUMNS) + [c for i in IDS for c in (i, f"{i}__n", f"{i}__peer_pct", f"{i}__national_pct")]
    table = table[order]
    table.index.name = "lg_code"
    table.attrs["notes"] = list(state.notes)
    table.attrs["fiscal_year"] = fiscal_year
    table.attrs["as_of"] = as_of.isoformat()
    return table


def _percentiles(vals: pd.DataFrame, peer_key: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Peer and national positions (0–100) of every value; unknown among fewer than MIN_COMPARABLE values."""
    peer_pct = vals.groupby(peer_key, sort=False).rank(pct=True, method="max") * 100.0
    nat_pct = vals.rank(pct=True, method="max") * 100.0
    # A position among fewer than MIN_COMPARABLE known values says nothing (a municipality that alone
    # loaded its ledger would be "100" among its peers): leave it unknown.
    known_in_peers = vals.notna().groupby(peer_key, sort=False).transform("sum")
    peer_pct = peer_pct.where(known_in_peers >= MIN_COMPARABLE)
    nat_pct = nat_pct.where(vals.notna().sum() >= MIN_COMPARABLE, axis=1)
    peer_pct.columns = [f"{i}__peer_pct" for i in vals.columns]
    nat_pct.columns = [f"{i}__national_pct" for i in vals.columns]
    return peer_pct, nat_pct


LEDGER_DERIVED: tuple[str, ...] = tuple(d.id for d in INDICATORS if d.needs_ledger or SRC_LEDGER in d.source)


def restrict_ledger(table: pd.DataFrame, visible: frozenset[str] | None) -> pd.DataFrame:
    """The municipal table as someone sees it who may see the ledger figures of ``visible`` only.

    The other municipalities' ledger-derived values become unknown (as if they had loaded no ledger), and
    the positions among peers and nationally are recomputed over what remains, so that no hidden value
    shapes a shown percentile. Each municipality's ledger figures depend on its own facilities alone, so
    this equals building the table from the visible ledgers. None = everything visible."""
    if visible is None:
        return table
    hidden = ~table.index.isin(list(visible))
    if not hidden.any():
        return table
    out = table.copy()
    ids = [i for i in LEDGER_DERIVED if i in out.columns]
    out.loc[hidden, ids] = np.nan
    out.loc[hidden, [f"{i}__n" for i in ids]] = 0
    out.loc[hidden, ["has_ledger", "synthetic"]] = False
    peer_pct, nat_pct = _percentiles(out[ids], out["peer_key"])
    out[peer_pct.columns] = peer_pct
    out[nat_pct.columns] = nat_pct
    out.attrs = dict(table.attrs)
    return out


# --- karte -------------------------------------------------------------------------------------------
def _owner_codes(df: pd.DataFrame) -> np.ndarray:
    codes, uniques = pd.factorize(df["lg_code"])
    text = np.array([str(u).strip().zfill(6) for u in uniques] + [""], dtype=object)
    return text[np.where(codes >= 0, codes, len(text) - 1)]


def _scope_ledger(ledger: LedgerFrames, owners: set[str] | None) -> LedgerFrames:
    """The part of the ledger a scope can see (None = all). Orphan records belong to no scope but national."""
    if owners is None or ledger.facilities.empty:
        return ledger
    fac = ledger.facilities
    fac = fac[pd.Series(_owner_codes(fac)).isin(owners).to_numpy()]
    ids = fac["facility"]
    ins, mea = ledger.inspections, ledger.measures
    return LedgerFrames(fac, ins[ins["facility"].isin(ids)] if len(ins) else ins,
                        mea[mea["facility"].isin(ids)] if len(mea) else mea)


def _scope_owners(scope: Scope, ref: ReferenceFrames) -> set[str] | None:
    if scope.kind == ScopeKind.NATIONAL:
        return None
    owners = set(scope.members)
    if scope.kind == ScopeKind.PREFECTURE:
        m = ref.municipalities
        owners |= set(m.index[(m["kind"] == "prefecture").to_numpy() & (m["pref_code"].astype(str) == scope.code)])
    return owners


def _opt(x: float | np.floating | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _label(d_id: str, label: str, scope: Scope) -> str:
    if scope.kind == ScopeKind.MUNICIPALITY:
        return label
    if d_id.startswith("bridges_"):
        return f"{label}（市区町村管理）"
    if d_id == "fiscal_capability_index":
        return f"{label}（市区町村の単純平均）"
    return f"{label}（市区町村計）"


def karte(scope: Scope, ref: ReferenceFrames, ledger: LedgerFrames, *, fiscal_year: int, as_of: date,
          table: pd.DataFrame | None = None, sector: Filter = None, facility_type: Filter = None,
          visible: frozenset[str] | None = None, scales: Mapping[str, Scale] | None = None) -> Karte:
    """カルテ of any scope: every indicator (with n, source, definition) and the series behind the charts.

    For a municipality the peer and national percentiles come from `table` (municipal_table with the same
    fiscal_year, as_of and filters; computed here when None). ``visible``: the municipalities whose ledger
    figures the reader may see (None = all); the others' facilities count nowhere in this カルテ.
    ``scales``: each facility type's inspection scale (by type code); with it every scale in the scope gets its
    own table (its grades as the manual names them, and the facilities at or beyond its repair trigger), and
    when the scope mixes scales the cross-sector figures say they are on the common band.
    """
    owners = _scope_owners(scope, ref)
    if visible is not None:
        owners = set(visible) if owners is None else owners & set(visible)
    state = facility_state(_scope_ledger(ledger, owners), ref.municipalities.index, as_of,
                           sector=sector, facility_type=facility_type)
    comp = components(ref, fiscal_year)
    group = np.where(comp.index.isin(list(scope.members)), 0, -1)
    values = aggregate(comp, group, 1)
    counts = ledger_counts(state, np.zeros(len(state), dtype="int64"), 1)
    values.update(ledger_values(counts))

    peer = None
    row: pd.Series | None = None
    if scope.kind == ScopeKind.MUNICIPALITY:
        peer = peer_groups(ref, fiscal_year).get(scope.code)
        if table is None:
            table = municipal_table(ref, ledger, fiscal_year=fiscal_year, as_of=as_of, sector=sector,
                                    facility_type=facility_type)
        table = restrict_ledger(table, visible)
        if scope.code in table.index:
            found = table.loc[scope.code]
            row = found if isinstance(found, pd.Series) else found.iloc[0]

    indicators: list[IndicatorValue] = []
    for d in INDICATORS:
        v, n = values[d.id]
        indicators.append(IndicatorValue(
            id=d.id, label_ja=d.label_ja if d.needs_ledger else _label(d.id, d.label_ja, scope),
            value=_opt(v[0]), unit=d.unit, n=int(n[0]), source=d.source,
            peer_percentile=None if row is None else _opt(row[f"{d.id}__peer_pct"]),
            national_percentile=None if row is None else _opt(row[f"{d.id}__national_pct"]),
            definition_ja=d.definition_ja))

    mixed = _mixes_scales(state, scales)
    if mixed:
        indicators = [replace(i, label_ja=_BAND_INDICATORS[i.id]) if i.id in _BAND_INDICATORS else i
                      for i in indicators]
    series = _ledger_series(state, mixed) + [_fy_trend_series(ref, scope)]
    if scope.kind == ScopeKind.MUNICIPALITY:
        series.append(_peer_series(indicators))
    series.append(_sector_stock(state))
    if scales is not None:
        series.extend(_scale_series(state, scales))
    notes = list(state.notes)
    if scope.kind == ScopeKind.GROUP:
        prefs = [c for c in scope.members if ref.municipalities.at[c, "kind"] == "prefecture"]
        if prefs:
            notes.append(f"構成団体のうち都道府県（{'、'.join(prefs)}）は、台帳の指標にだけ自らの施設を含めます"
                         "（参照データの都道府県の行は市区町村分を含むため、参照データの合計には加えません）。")
    return Karte(scope=scope, fiscal_year=fiscal_year, as_of=as_of, indicators=indicators, series=series,
                 peer_group=peer, synthetic=bool(state.synthetic.any()), has_ledger=len(state) > 0,
                 assumptions=assumptions(scope, as_of, synthetic=bool(state.synthetic.any())) + (
                     [_BAND_ASSUMPTION] if mixed else []) + _unverified_scales(state, scales), notes=notes)


def assumptions(scope: Scope, as_of: date, *, synthetic: bool = False) -> list[str]:
    """The assumptions behind a カルテ, in Japanese (docs/architecture.md, DESIGN: every number can be traced)."""
    fy = calendar.fiscal_year(as_of)
    out = [
        f"施設の年齢は年度で数えます（年齢 = 年度 − 建設年度）。現在は基準日 {as_of.isoformat()} の属する"
        f"{fy}年度、10年後・20年後はそれぞれ{fy + 10}年度・{fy + 20}年度です。年齢の分布は10年ごとの区分です。",
        f"建設年度が不明の施設は、建設後{AGE_THRESHOLD}年以上の割合の分母から除き、「建設年度不明」として別に数えます"
        "（国土交通省の集計方法と同じ）。",
        f"将来の割合（10年後・20年後・{PROJECTION_END}年までの推移）は、現在の施設がそのまま残ると仮定します"
        "（新設・撤去・更新を見込みません）。",
        "最新の健全性は基準日までの点検のうち最も新しいものです。同じ日に複数の点検があれば悪い方の区分を採ります。"
        "点検の記録がない施設は、台帳の「最新の健全性」「最新の点検日」を使います。",
        f"点検期限：5年に1回の定期点検が義務の施設種別（橋梁・トンネル・横断歩道橋・大型カルバート・門型標識等・シェッド）で、"
        f"最新の点検が基準日の{INSPECTION_CYCLE_YEARS}年より前なら期限切れとします。未点検の施設は別に数えます。",
        "措置未着手：最新の健全性がⅢ・Ⅳで、判定（Ⅲ・Ⅳが続いている最初の点検）の年度以降に設計中・工事中・完了の措置が"
        "ないもの。措置の状態は台帳に記録された現在の状態です。",
        f"判定後5年以上措置未着手の割合の分母は、基準日の5年以上前にⅢ・Ⅳと判定されたことがある施設です"
        f"（全国の比較値：地方公共団体管理の橋梁で約{NATIONAL_BACKLOG_5Y_SHARE:.0f}%）。",
        "参照データの値は、不明（空欄）をゼロとせず、分かっている団体だけで合計し、件数 n を示します。"
        "比率は分子と分母がともに分かっている団体だけで計算します。",
        "橋梁数・判定区分Ⅲ・Ⅳの橋梁数は道路メンテナンス年報の FY2020–2024 の1巡回分で、どの年度でも同じ値です。",
        "類似団体は、区分（村・町・市・政令市・特別区）と人口階層（5千・1万・3万・5万・10万・20万・50万人で区切る）が"
        "同じ団体です。参照データは中核市・施行時特例市を区別しないため、これらは「市」に含めます。"
        "パーセンタイルは、類似団体（または全国）の値が分かっている団体のうち、この値以下の団体の割合です。",
        "技術系職員数は利用者の入力値です（公開データがないため、未入力の団体は不明）。",
    ]
    if scope.kind != ScopeKind.MUNICIPALITY:
        out.append("参照データの合計は市区町村の行だけを足したものです（都道府県の行は都道府県自身の管理分と市区町村分の"
                   "合計のため加えません）。橋梁の値は市区町村管理の橋梁です。")
    if scope.kind == ScopeKind.PREFECTURE:
        out.append("台帳の指標には、管内の市区町村の施設に加えて都道府県自身が管理する施設を含めます。")
    if scope.kind == ScopeKind.NATIONAL:
        out.append("全国の台帳の指標には、台帳に読み込まれたすべての団体（都道府県を含む）の施設を含めます。")
    if synthetic:
        out.append("この集計には合成データ（デモ用の架空の施設）が含まれます。実在の施設の状態ではありません。")
    return out


# --- series ------------------------------------------------------------------------------------------
AGE_BINS = [f"{a}〜{a + 9}年" for a in range(0, 100, 10)] + ["100年以上", "不明"]
GRADE_BINS = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "未点検"]
BACKLOG_BINS = ["1年未満", "1年", "2年", "3年", "4年", "5〜9年", "10年以上", "判定日不明"]


def _counts_list(x: np.ndarray) -> list[float | None]:
    return [float(v) for v in x]


# Across sectors the ledger indicators count on the common band (band ≥ 3: each scale's repair trigger reached).
_BAND_INDICATORS = {
    "grade_iii_iv_share": f"措置が必要な施設の割合（{BAND_LABEL}の3・4）",
}
BAND_BINS = [f"{b} {BAND_NAMES[b]}" for b in (1, 2, 3, 4)] + ["未点検"]
_BAND_ASSUMPTION = (
    f"点検の判定区分は分野ごとの要領の尺度です（道路構造物の健全性Ⅰ〜Ⅳ、舗装の診断区分、公園施設の健全度A〜D、下水道の緊急度 …）。"
    f"分野をまたぐ集計（判定の分布、措置が必要な施設の割合、措置未着手）は{BAND_LABEL}で数えます。区分3・4は各尺度の"
    f"措置の目安以上で、道路構造物では健全性Ⅲ・Ⅳと同じです。各分野の尺度での分布は分野ごとの表にあります。")


def _unverified_scales(state: FacilityState, scales: Mapping[str, Scale] | None) -> list[str]:
    """The assumption that names the scope's scales not yet checked against their manual's own table (``verified``
    false in gunmane/data/scales): their grades are read and counted as shipped, and the reader should know."""
    if scales is None or not len(state):
        return []
    found = {scales[t].id: scales[t] for t in sorted(set(state.facility_type.tolist())) if t in scales}
    names = [sc.name for sc in found.values() if not sc.verified]
    if not names:
        return []
    return [f"点検要領の判定区分の表とまだ突き合わせていない尺度：{'、'.join(names)}（公開資料で確かめたのは区分の数・"
            "順序・措置の目安などの一部です。区分の名前と定義は要領で確かめてください）。"]


def _mixes_scales(state: FacilityState, scales: Mapping[str, Scale] | None) -> bool:
    """Whether the scope's facilities are graded on more than one scale (then grades are compared by band)."""
    if scales is None or not len(state):
        return False
    ids = {scales[t].id for t in set(state.facility_type.tolist()) if t in scales}
    return len(ids) > 1


def _scale_series(state: FacilityState, scales: Mapping[str, Scale]) -> list[Series]:
    """One table per inspection scale in the scope: the latest grade of each facility as its manual names it
    (健全性 Ⅰ〜Ⅳ for road structures, 健全度 A〜D for parks …), and how many are at or beyond the scale's repair
    trigger."""
    if not len(state):
        return []
    types = state.facility_type
    by_scale: dict[str, list[str]] = {}
    for t in sorted(set(types.tolist()), key=lambda t: (list(FACILITY_TYPE_NAMES).index(t)
                                                       if t in FACILITY_TYPE_NAMES else 99, str(t))):
        if t in scales and scales[t].graded:
            by_scale.setdefault(scales[t].id, []).append(t)
    out: list[Series] = []
    for sid, codes in by_scale.items():
        sc = scales[codes[0]]
        mask = np.isin(types, codes)
        own = state.scale_grade[mask]
        n = len(sc.grades)
        counts = np.append(np.bincount(own[(own >= 1) & (own <= n)] - 1, minlength=n)[:n], int((own == 0).sum()))
        names = "・".join(FACILITY_TYPE_NAMES.get(c, c) for c in codes)
        trigger = ""
        if sc.trigger is not None:
            due = int(((own >= sc.trigger) & (own <= n)).sum())
            trigger = (f"措置の目安（{grade_short(sc, sc.trigger)}以上）の施設は {due:,} 件です"
                       f"（{sc.source.title}）。")
        out.append(Series(
            f"grades-{sid}", f"{sc.subject}の分布（{names}、最新の判定）", "施設",
            [grade_short(sc, g.index) for g in sc.grades] + ["未点検"], {"施設数": _counts_list(counts)},
            SRC_LEDGER, x_label=sc.subject,
            note=f"{names}の点検を、{sc.name}のまま数えています。{trigger}"))
    return out


def _ledger_series(state: FacilityState, mixed: bool = False) -> list[Series]:
    note = "" if len(state) else "施設台帳が読み込まれていません。"
    by = state.built_year
    known = ~np.isnan(by)
    age = np.clip(state.fy_now - by[known], 0, None)
    age_bins = np.minimum(age // 10, 10).astype("int64")
    age_counts = np.append(np.bincount(age_bins, minlength=11), int((~known).sum()))
    years = list(range(state.fy_now, max(PROJECTION_END, state.fy_now) + 1))
    sorted_years = np.sort(by[known])
    n_known = len(sorted_years)
    share: list[float | None] = [
        float(np.searchsorted(sorted_years, y - AGE_THRESHOLD, side="right") / n_known * 100.0) if n_known else None
        for y in years]  # at most ~30 fiscal years
    grade_counts = np.append(np.bincount(state.grade[state.grade > 0] - 1, minlength=4)[:4],
                             int((state.grade == 0).sum()))
    bl = state.backlog
    jd = state.judged_day[bl]
    has_jd = ~np.isnan(jd)
    yrs = whole_years_between(jd[has_jd], state.as_of) if has_jd.any() else np.zeros(0, dtype="int64")
    yrs = np.clip(yrs, 0, None)
    bins = np.where(yrs < 5, yrs, np.where(yrs < 10, 5, 6))
    backlog_counts = np.append(np.bincount(bins.astype("int64"), minlength=7)[:7], int((~has_jd).sum()))
    fy = state.fy_now
    return [
        Series("age_distribution", "建設後年数の分布", "施設", AGE_BINS, {"施設数": _counts_list(age_counts)},
               SRC_LEDGER, x_label=f"建設後年数（{fy}年度時点）",
               note=note or "建設年度不明の施設は「不明」に数えます。"),
        Series("ageing_projection", f"建設後{AGE_THRESHOLD}年以上の施設の割合の推移", "%", years,
               {f"建設後{AGE_THRESHOLD}年以上の割合": share}, SRC_LEDGER, x_label="年度",
               note=note or f"建設年度が分かる施設 {n_known:,} 件について、現在の施設がそのまま残ると仮定した推移です。"),
        Series("grade_distribution", "健全性の分布（最新の判定）", "施設", GRADE_BINS,
               {"施設数": _counts_list(grade_counts)}, SRC_LEDGER, x_label="健全性", note=note) if not mixed else
        Series("grade_distribution", f"最新の判定の分布（{BAND_LABEL}）", "施設", BAND_BINS,
               {"施設数": _counts_list(grade_counts)}, SRC_LEDGER, x_label=BAND_LABEL,
               note=note or "分野ごとの尺度（健全性Ⅰ〜Ⅳ、健全度A〜D、緊急度 …）を、措置の目安で揃えた4段階で数えています。"
                            "各分野の尺度での分布は分野ごとの表を見てください。"),
        Series("backlog_ageing", "措置未着手の施設の判定後年数", "施設", BACKLOG_BINS,
               {"施設数": _counts_list(backlog_counts)}, SRC_LEDGER, x_label="判定からの経過年数",
               note=note or "判定日は、現在のⅢ・Ⅳが続いている最初の点検の日です。"),
    ]


def _fy_trend_series(ref: ReferenceFrames, scope: Scope) -> Series:
    years, values = fy_trend(ref, pd.Index([c for c in scope.members]))
    return Series("fy_trend", "土木費・人口の推移", "円・人・円/人", years, values,
                  f"{SRC_FINANCE}／{SRC_POPULATION}", x_label="年度",
                  note="単位は系列名の括弧内のとおり。複数団体では市区町村の合計（不明の団体は除く）。")


def _peer_series(indicators: list[IndicatorValue]) -> Series:
    shown = [i for i in indicators if i.peer_percentile is not None or i.national_percentile is not None]
    return Series("peer_percentiles", "類似団体・全国の中での位置", "パーセンタイル", [i.id for i in shown],
                  {"類似団体": [i.peer_percentile for i in shown], "全国": [i.national_percentile for i in shown]},
                  "gunmane による計算（各指標の出典による）", x_label="指標",
                  note="値が分かっている団体のうち、この値以下の団体の割合（%）。高いほど良いとは限りません"
                       "（指標ごとに、高いほど良い・低いほど良いが異なります）。")


def _sector_stock(state: FacilityState) -> Series:
    if len(state) == 0:
        return Series("sector_stock", "分野・施設種別ごとの施設数", "施設", [], {"施設数": []}, SRC_LEDGER,
                      x_label="分野・施設種別", note="施設台帳が読み込まれていません。")
    frame = pd.DataFrame({"sector": state.sector, "facility_type": state.facility_type})
    counts = frame.value_counts()
    sector_rank = {s: i for i, s in enumerate(SECTOR_NAMES)}
    type_rank = {t: i for i, t in enumerate(FACILITY_TYPE_NAMES)}
    keys = sorted(counts.index, key=lambda k: (sector_rank.get(k[0], 99), type_rank.get(k[1], 99), k))
    labels = [f"{SECTOR_NAMES.get(s, s)}・{FACILITY_TYPE_NAMES.get(t, t)}" for s, t in keys]
    return Series("sector_stock", "分野・施設種別ごとの施設数", "施設", labels,
                  {"施設数": [float(counts[k]) for k in keys]}, SRC_LEDGER, x_label="分野・施設種別")
