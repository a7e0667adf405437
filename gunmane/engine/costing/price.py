"""The price chains (工事価格・業務価格) of the official estimation rules, scalar and vectorised.

Works (土木工事標準積算基準書, quantitative-methods.md §A1)::

    直接工事費 P
    + 共通仮設費 = P·Kr(P)            → 純工事費 Np
    + 現場管理費 = Np·Jo(Np)          → 工事原価 Cp
    + 一般管理費等 = Cp·Gp(Cp)        → 工事価格 (消費税を除く)

Services (設計業務等積算基準, §A5)::

    直接原価 = 直接人件費 + 直接経費
    その他原価 = 直接人件費 × α/(1−α)  → 業務原価
    一般管理費等 = 業務原価 × β/(1−β)  → 業務価格

Simplifications (stated in every result): no individually priced items (積上げ分), no disposal-cost
cap, no image-up cost, no consumption tax; optional user multipliers for regional / DID / 週休2日
corrections (1.0 unless given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gunmane.engine.costing.errors import CostingError
from gunmane.engine.costing.rules import CostingEdition, FloatArray

__all__ = ["ServicePrice", "WorksPrice", "service_price", "service_price_array", "works_price", "works_price_array"]

WORKS_ASSUMPTIONS = (
    "率は積算基準の式（区間内は A·X^b、一般管理費等率は a·log10(Cp)+c、区間外は固定率）で計算し小数第2位に四捨五入。各金額は円未満切り捨て。",
    "積上げ分（個別に積み上げる共通仮設費）、処分費の率計算対象額の上限、イメージアップ経費、消費税は含めない。",
)
SERVICE_ASSUMPTIONS = (
    "業務価格 = 直接原価 + その他原価（直接人件費 × α/(1−α)）+ 一般管理費等（業務原価 × β/(1−β)）。各金額は円未満切り捨て、消費税は含めない。",
)


@dataclass(frozen=True)
class WorksPrice:
    """工事価格 of one works contract, with every rate (%) and amount (yen) of the chain."""

    work_type: str
    edition: str
    edition_label_ja: str
    direct_cost_yen: float
    common_temporary_rate: float
    common_temporary_yen: float
    net_cost_yen: float
    site_management_rate: float
    site_management_yen: float
    prime_cost_yen: float
    general_admin_rate: float
    general_admin_yen: float
    price_yen: float
    assumptions: tuple[str, ...] = WORKS_ASSUMPTIONS

    @property
    def overhead_yen(self) -> float:
        return self.price_yen - self.direct_cost_yen

    def as_json(self) -> dict[str, Any]:
        """The documented JSON of `gunmane costing price` (rates in percent, amounts in whole yen)."""
        return {
            "work_type": self.work_type, "edition": self.edition,
            "direct_cost_yen": round(self.direct_cost_yen), "common_temporary_rate": self.common_temporary_rate,
            "net_cost_yen": round(self.net_cost_yen), "site_management_rate": self.site_management_rate,
            "prime_cost_yen": round(self.prime_cost_yen), "general_admin_rate": self.general_admin_rate,
            "price_yen": round(self.price_yen),
        }


@dataclass(frozen=True)
class ServicePrice:
    service: str
    edition: str
    direct_labour_yen: float
    direct_expense_yen: float
    other_cost_yen: float
    business_cost_yen: float
    general_admin_yen: float
    price_yen: float
    assumptions: tuple[str, ...] = SERVICE_ASSUMPTIONS

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "edition": self.edition, "direct_labour_yen": round(self.direct_labour_yen),
                "direct_expense_yen": round(self.direct_expense_yen), "other_cost_yen": round(self.other_cost_yen),
                "business_cost_yen": round(self.business_cost_yen),
                "general_admin_yen": round(self.general_admin_yen), "price_yen": round(self.price_yen)}


def _yen(x: FloatArray) -> FloatArray:
    """円未満切り捨て (each amount of the chain is truncated to whole yen)."""
    return np.floor(x + 1e-6)


def _check_amount(x: FloatArray, name: str) -> None:
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise CostingError("invalid_amount", f"{name} は 0 以上の金額（円）を指定してください。",
                           f"{name} must be a non-negative amount in yen.", field=name)


def works_price_array(edition: CostingEdition, work_type: str, direct_cost_yen: npt.ArrayLike, *,
                      advance_payment_pct: float | None = None, kr_factor: float = 1.0,
                      jo_factor: float = 1.0) -> dict[str, FloatArray]:
    """The works chain for many contracts of one work type at once; arrays keyed like :class:`WorksPrice`."""
    rules = edition.work(work_type)
    p = np.asarray(direct_cost_yen, dtype=np.float64)
    _check_amount(p, "direct_cost_yen")
    kr = rules.common_temporary.rate_pct(p) * kr_factor
    ct = _yen(p * kr / 100.0)
    np_ = p + ct
    jo = rules.site_management.rate_pct(np_) * jo_factor
    sm = _yen(np_ * jo / 100.0)
    cp = np_ + sm
    gp = edition.general_admin.rate_pct(cp, advance_payment_pct)
    ga = _yen(cp * gp / 100.0)
    return {"direct_cost_yen": p, "common_temporary_rate": kr, "common_temporary_yen": ct, "net_cost_yen": np_,
            "site_management_rate": jo, "site_management_yen": sm, "prime_cost_yen": cp, "general_admin_rate": gp,
            "general_admin_yen": ga, "price_yen": cp + ga}


def works_price(edition: CostingEdition, work_type: str, direct_cost_yen: float, *,
                advance_payment_pct: float | None = None, kr_factor: float = 1.0, jo_factor: float = 1.0) -> WorksPrice:
    """工事価格 of one contract with direct cost ``direct_cost_yen`` under ``edition``."""
    a = works_price_array(edition, work_type, [direct_cost_yen], advance_payment_pct=advance_payment_pct,
                          kr_factor=kr_factor, jo_factor=jo_factor)
    v = {k: float(x[0]) for k, x in a.items()}
    extra = []
    if kr_factor != 1.0 or jo_factor != 1.0:
        extra.append(f"地域・DID 等の補正（利用者入力）: 共通仮設費率 ×{kr_factor:g}、現場管理費率 ×{jo_factor:g}。")
    if advance_payment_pct is not None:
        extra.append(f"前払金支出割合 {advance_payment_pct:g}% の補正 ×{edition.general_admin.factor(advance_payment_pct):g}"
                     "（一般管理費等率）。")
    return WorksPrice(work_type=work_type, edition=edition.id, edition_label_ja=edition.label_ja,
                      direct_cost_yen=v["direct_cost_yen"],
                      common_temporary_rate=v["common_temporary_rate"], common_temporary_yen=v["common_temporary_yen"],
                      net_cost_yen=v["net_cost_yen"], site_management_rate=v["site_management_rate"],
                      site_management_yen=v["site_management_yen"], prime_cost_yen=v["prime_cost_yen"],
                      general_admin_rate=v["general_admin_rate"], general_admin_yen=v["general_admin_yen"],
                      price_yen=v["price_yen"], assumptions=(*WORKS_ASSUMPTIONS, *extra))


def service_price_array(edition: CostingEdition, service: str, direct_labour_yen: npt.ArrayLike,
                        direct_expense_yen: npt.ArrayLike = 0.0) -> dict[str, FloatArray]:
    r = edition.service(service)
    lab = np.asarray(direct_labour_yen, dtype=np.float64)
    exp = np.broadcast_to(np.asarray(direct_expense_yen, dtype=np.float64), lab.shape)
    _check_amount(lab, "direct_labour_yen")
    _check_amount(exp, "direct_expense_yen")
    a, b = r.other_cost_ratio_pct / 100.0, r.general_admin_ratio_pct / 100.0
    other = _yen(lab * a / (1.0 - a))
    business = lab + exp + other
    ga = _yen(business * b / (1.0 - b))
    return {"direct_labour_yen": lab, "direct_expense_yen": exp, "other_cost_yen": other,
            "business_cost_yen": business, "general_admin_yen": ga, "price_yen": business + ga}


def service_price(edition: CostingEdition, service: str, direct_labour_yen: float,
                  direct_expense_yen: float = 0.0) -> ServicePrice:
    """業務価格 of one service contract (点検・設計業務)."""
    a = service_price_array(edition, service, [direct_labour_yen], [direct_expense_yen])
    v = {k: float(x[0]) for k, x in a.items()}
    return ServicePrice(service=service, edition=edition.id, direct_labour_yen=v["direct_labour_yen"],
                        direct_expense_yen=v["direct_expense_yen"], other_cost_yen=v["other_cost_yen"],
                        business_cost_yen=v["business_cost_yen"], general_admin_yen=v["general_admin_yen"],
                        price_yen=v["price_yen"])
