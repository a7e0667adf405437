"""Build a カルテ for a scope named the way the CLI and URLs name it: national, 29, 292125, group:NAME."""

from __future__ import annotations

from datetime import date

import pandas as pd
from django.utils import timezone

from gunmane.engine import indicators
from gunmane.engine.indicator_types import Karte, Scope, ScopeKind
from gunmane.io.ledger.grades import scale_of_type
from gunmane.io.values.parsing import InvalidValue, parse_lg_code
from gunmane.web.groups.models import Group
from gunmane.web.registry import frames


class ScopeNotFound(Exception):
    """The scope does not name a known prefecture, municipality or group (message in Japanese)."""


def resolve_scope(spec: str) -> Scope:
    spec = spec.strip()
    ref = frames.reference_frames()
    if spec.lower() in ("national", "全国"):
        return indicators.national_scope(ref)
    if spec.startswith("group:"):
        name = spec.removeprefix("group:")
        group = Group.objects.filter(name=name).first()
        if group is None:
            raise ScopeNotFound(f"群「{name}」が見つかりません（gunmane groups で一覧を確認してください）。")
        # The supporting prefecture's row in the reference data already contains its municipalities:
        # the group's figures are the sums over its member municipalities.
        codes = [c for c in group.member_codes() if c in ref.municipalities.index
                 and ref.municipalities.loc[c, "kind"] != "prefecture"]
        return indicators.group_scope(group.name, tuple(codes), ref)
    if spec.isdigit() and len(spec) == 2:
        if spec not in set(ref.municipalities["pref_code"]):
            raise ScopeNotFound(f"都道府県コード {spec} は存在しません（01〜47）。")
        return indicators.prefecture_scope(ref, spec)
    try:
        lg = parse_lg_code(spec).value
    except InvalidValue as exc:
        raise ScopeNotFound(f"「{spec}」は national・都道府県コード（2桁）・団体コード・group:名称 のいずれでもありません"
                            f"（{exc.message_ja}）。") from exc
    if lg is None or lg not in ref.municipalities.index:
        raise ScopeNotFound(f"団体コード {spec} の団体が見つかりません。")
    if ref.municipalities.loc[lg, "kind"] == "prefecture":
        return indicators.prefecture_scope(ref, lg[:2])
    return indicators.municipality_scope(ref, lg)


def build_karte(scope: Scope, *, fiscal_year: int | None = None, as_of: date | None = None,
                sector: str | None = None, facility_type: str | None = None,
                visible: frozenset[str] | None = None) -> Karte:
    """The カルテ of a scope; sector / facility_type (codes) narrow the ledger indicators.

    ``visible``: the municipalities whose ledger-derived figures the reader may see
    (groups.permissions.ledger_figure_codes; None = all, as for the CLI run by an operator)."""
    fiscal_year = fiscal_year or frames.latest_fiscal_year()
    as_of = as_of or timezone.localdate()
    key = frames.fingerprint()
    if visible is not None and scope.kind in (ScopeKind.GROUP, ScopeKind.PREFECTURE):
        # only the scope's own ledgers count there: one cache entry per scope and what the reader sees of it
        visible = visible & _scope_codes(scope)
    return frames.cached("karte", key, (scope, fiscal_year, as_of, sector, facility_type, visible),
                         lambda: _build(scope, fiscal_year, as_of, key, sector, facility_type, visible))


def _scope_codes(scope: Scope) -> frozenset[str]:
    ref = frames.reference_frames()
    codes = set(scope.members) | {scope.code}
    if scope.kind == ScopeKind.PREFECTURE:
        m = ref.municipalities
        codes |= set(m.index[m["pref_code"].astype(str) == scope.code])
    return frozenset(codes)


def municipal_table(fiscal_year: int, *, visible: frozenset[str] | None, sector: str | None = None,
                    facility_type: str | None = None) -> pd.DataFrame:
    """Every municipality's indicators, with the ledger figures the reader may not see left unknown."""
    table = frames.municipal_table(fiscal_year, sector=sector, facility_type=facility_type)
    if visible is None:
        return table
    return frames.cached("municipal_table_visible", frames.fingerprint(),
                         (fiscal_year, sector, facility_type, visible),
                         lambda: indicators.restrict_ledger(table, visible))


def _build(scope: Scope, fiscal_year: int, as_of: date, key: tuple[object, ...], sector: str | None,
           facility_type: str | None, visible: frozenset[str] | None) -> Karte:
    ref = frames.reference_frames(key)
    if scope.kind == ScopeKind.NATIONAL:
        ledger = frames.ledger_frames(None, key)
    else:
        codes = set(scope.members) | ({scope.code} if scope.kind == ScopeKind.MUNICIPALITY else set())
        if scope.kind == ScopeKind.PREFECTURE:
            codes |= set(ref.municipalities.index[(ref.municipalities["pref_code"] == scope.code)
                                                  & (ref.municipalities["kind"] == "prefecture")])
        ledger = frames.ledger_frames(tuple(codes), key)
    table = (frames.municipal_table(fiscal_year, as_of, sector=sector, facility_type=facility_type)
             if scope.kind == ScopeKind.MUNICIPALITY else None)
    types = set(ledger.facilities["facility_type"].dropna().astype(str)) if len(ledger.facilities) else set()
    return indicators.karte(scope, ref, ledger, fiscal_year=fiscal_year, as_of=as_of, table=table, sector=sector,
                            facility_type=facility_type, visible=visible,
                            scales={t: scale_of_type(t) for t in types})
