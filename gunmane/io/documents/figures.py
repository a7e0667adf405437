"""The figures every document states, computed once from the :class:`DocumentInput`: the schedule and the
period derived from it, the cost shares and amounts (from the chosen scenario's price per member), and the
same figures as JSON (``gunmane documents generate --format json``).

The writers print these and the checker (checker.py) compares what was printed with them, so a figure that
appears in two places — the 実施方針's 表8, the 協定書's 別表第3, the JSON — is one value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from gunmane.engine.calendar import fiscal_year
from gunmane.io.documents.formatting import fiscal_year_label, rounded_shares, wareki_year
from gunmane.io.documents.inputs import DocumentInput, EffectSummary, MemberInfo, ScheduleItem

__all__ = ["ShareRow", "build_schedule", "document_figures", "is_observer", "is_supporting", "member_sen", "period_text",
           "rounded_amounts", "share_rows"]

PREPARE = "実施方針の策定・協定の締結・予算要求（複数年度の契約は債務負担行為の設定）"
FIRST = "発注・実施（初年度）・モニタリング"
FIRST_NO_PREPARE = "協定の締結・発注・実施（初年度）・モニタリング"
MIDDLE = "実施・モニタリング"
LAST = "実施・モニタリング、取組の評価と次期の検討"
ONLY = "協定の締結・発注・実施・取組の評価"


def is_observer(m: MemberInfo) -> bool:
    return "オブザーバー" in m.role_ja


def is_supporting(m: MemberInfo) -> bool:
    return "支援" in m.role_ja


# --------------------------------------------------------------------------- schedule and period


def build_schedule(start: int, years: int, prepared_on: date) -> tuple[ScheduleItem, ...]:
    """The schedule of a period of ``years`` fiscal years from ``start``: the year before it (policy,
    agreement, budget) when that year is not already past at ``prepared_on``, then each year of the period.

    The caller passes the scenario's years (or, without an effect estimate, the group's settings); a period
    that starts before the document's fiscal year is left as it is for the checker to refuse."""
    years = max(1, int(years))
    prepare = start - 1 >= fiscal_year(prepared_on)
    out: list[ScheduleItem] = [ScheduleItem(start - 1, PREPARE, in_period=False)] if prepare else []
    for k in range(years):
        if years == 1:
            item = ONLY if not prepare else "発注・実施・取組の評価"
        elif k == 0:
            item = FIRST if prepare else FIRST_NO_PREPARE
        elif k == years - 1:
            item = LAST
        else:
            item = MIDDLE
        out.append(ScheduleItem(start + k, item))
    return tuple(out)


def period_text(schedule: Sequence[ScheduleItem]) -> str:
    """「令和9年度から令和13年度まで（2027〜2031年度）の5年間」, derived from the schedule's years of the work."""
    years = sorted(s.fiscal_year for s in schedule if s.in_period)
    if not years:
        return ""
    a, b = years[0], years[-1]
    if a == b:
        return f"{fiscal_year_label(a)}の1年間"
    return f"{wareki_year(a)}度から{wareki_year(b)}度まで（{a}〜{b}年度）の{len(years)}年間"


# --------------------------------------------------------------------------- cost shares


@dataclass(frozen=True)
class ShareRow:
    """One member's part of the scenario's price: the amount (円) the engine allocated to it, its share of the
    total, and both as printed (percent with one decimal and 千円, rounded so the column sums are exact)."""

    lg_code: str
    name: str
    role_ja: str
    amount_yen: float
    share: float
    pct: float            # printed percent (sums to 100.0 exactly)
    amount_sen: int       # printed 千円 (sums to the printed total exactly)
    supporting: bool


def rounded_amounts(values: Sequence[float], unit: float = 1000.0) -> list[int]:
    """Amounts in ``unit`` rounded so that they add up to the rounded total (largest remainder): a column of
    千円 whose sum differs from its 合計 row by one invites questions from every finance section."""
    scaled = [max(0.0, v) / unit for v in values]
    target = round(sum(scaled))
    floors = [math.floor(x + 1e-9) for x in scaled]
    missing = target - sum(floors)
    order = sorted(range(len(scaled)), key=lambda i: scaled[i] - floors[i], reverse=True)
    for i in order[: max(0, missing)]:
        floors[i] += 1
    return floors


def member_sen(e: EffectSummary, scenario: bool = True) -> dict[str, int]:
    """Each member's price (the scenario's, or the baseline's) in 千円, rounded so that they add up to the total
    in 千円 (members in 団体コード order, so every table that prints them prints the same numbers)."""
    members = sorted(e.per_member, key=lambda m: m.lg_code)
    values = [m.scenario_price_yen if scenario else m.baseline_price_yen for m in members]
    return {m.lg_code: v for m, v in zip(members, rounded_amounts(values), strict=True)}


def share_rows(inp: DocumentInput) -> tuple[ShareRow, ...]:
    """The members' shares of the chosen scenario's price (empty without an effect estimate or a price).

    Every member that signs (observers do not) has a row, in member order; its amount is the price the
    effects engine allocated to it under the group's rule, so a member with no facilities in scope — a
    supporting prefecture — bears nothing, and the amounts add up to the scenario's total by construction."""
    e = inp.effects
    if e is None:
        return ()
    price = {m.lg_code: max(0.0, m.scenario_price_yen) for m in e.per_member}
    members = [m for m in inp.members if not is_observer(m)]
    amounts = [price.get(m.lg_code, 0.0) for m in members]
    total = sum(amounts)
    if total <= 0:
        return ()
    shares = [a / total for a in amounts]
    pct = rounded_shares(shares)
    printed = member_sen(e)
    sen = [printed.get(m.lg_code, 0) for m in members]
    return tuple(ShareRow(m.lg_code, m.name, m.role_ja, a, s, p, k, is_supporting(m))
                 for m, a, s, p, k in zip(members, amounts, shares, pct, sen, strict=True))


# --------------------------------------------------------------------------- the figures as JSON


def document_figures(inp: DocumentInput, kind: str = "", lot_id: str = "") -> dict[str, Any]:
    """The figures the documents state, as JSON: members and roles, cost shares and amounts, period and
    schedule, the scenario's price, contracts and staff-hours (rounded as ``gunmane effects`` JSON rounds them:
    yen to the yen, contracts to 3 decimals, hours to 1), version and author."""
    e = inp.effects
    rows = {r.lg_code: r for r in share_rows(inp)}
    per = {m.lg_code: m for m in e.per_member} if e is not None else {}
    members = []
    for m in inp.members:
        r, pm = rows.get(m.lg_code), per.get(m.lg_code)
        members.append({
            "lg_code": m.lg_code, "name": m.name, "role": m.role_ja, "supporting": is_supporting(m),
            "observer": is_observer(m),
            "share": None if r is None else round(r.share, 6), "share_pct": None if r is None else r.pct,
            "amount_yen": None if r is None else round(r.amount_yen), "amount_sen": None if r is None else r.amount_sen,
            "baseline_price_yen": None if pm is None else round(pm.baseline_price_yen),
            "contracts": None if pm is None else round(pm.scenario_contracts, 3),
            "staff_hours": None if pm is None else round(pm.scenario_staff_hours, 1),
        })
    effects = None
    if e is not None:
        effects = {
            "scenario": e.scenario_name, "scenario_index": e.scenario_index,
            "horizon": {"start_fiscal_year": e.start_fiscal_year, "years": e.horizon_years},
            "baseline": {"price_yen": round(e.baseline_price_yen), "contracts": round(e.baseline_contracts, 3),
                         "staff_hours": round(e.baseline_staff_hours, 1)},
            "scenario_totals": {"price_yen": round(e.scenario_price_yen), "contracts": round(e.scenario_contracts, 3),
                                "staff_hours": round(e.scenario_staff_hours, 1)},
            "assumptions": list(e.assumptions), "source": e.source,
        }
    cs = inp.cost_share
    return {
        "group": inp.group_name, "kind": kind, "lot": lot_id or None, "version": inp.version,
        "prepared_on": inp.prepared_on.isoformat(), "fiscal_year": fiscal_year(inp.prepared_on),
        "author": inp.author_ja, "synthetic": inp.synthetic,
        "members": members,
        "cost_share": {"rule": cs.rule, "name": cs.name_ja, "label": cs.label_ja, "explanation": cs.explanation_ja,
                       "equal_part": cs.equal_part, "agreed": [{"name": n, "pct": p} for n, p in cs.agreed],
                       "total_yen": round(sum(r.amount_yen for r in rows.values())) if rows else None,
                       "total_sen": sum(r.amount_sen for r in rows.values()) if rows else None},
        "period": {"start_fiscal_year": inp.period_start, "end_fiscal_year": inp.period_end,
                   "years": inp.period_years, "text": period_text(inp.schedule)},
        "schedule": [{"fiscal_year": s.fiscal_year, "label": fiscal_year_label(s.fiscal_year), "item": s.item,
                      "in_period": s.in_period} for s in sorted(inp.schedule, key=lambda s: s.fiscal_year)],
        "effects": effects,
        "lots": [{"lot_id": lot.lot_id, "name": lot.name, "facilities": len(lot.facilities),
                  "term_years": lot.term_years} for lot in inp.lots],
    }
