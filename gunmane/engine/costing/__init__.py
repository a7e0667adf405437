"""積算（costing）: the official estimation rules as versioned data and the price chains they define.

rules — typed editions (共通仮設費率 Kr, 現場管理費率 Jo, 一般管理費等率 Gp, 業務の諸経費) built from data rows
price — 工事価格 (P → Np → Cp → price) and 業務価格 (点検・設計業務), scalar and vectorised
The data files are read by :func:`gunmane.io.shipped.costing.load_costing_edition` (the engine does no I/O).
"""

from gunmane.engine.costing.errors import CostingError, InvalidEdition, UnknownWorkType
from gunmane.engine.costing.price import (
    ServicePrice,
    WorksPrice,
    service_price,
    service_price_array,
    works_price,
    works_price_array,
)
from gunmane.engine.costing.rules import (
    ASSUMPTION_STATUS,
    OVERHEADS,
    CostingEdition,
    GeneralAdminCurve,
    PowerRateCurve,
    ServiceRatios,
    WorkTypeRules,
    edition_from_tables,
)

__all__ = [
    "ASSUMPTION_STATUS",
    "OVERHEADS",
    "CostingEdition",
    "CostingError",
    "GeneralAdminCurve",
    "InvalidEdition",
    "PowerRateCurve",
    "ServicePrice",
    "ServiceRatios",
    "UnknownWorkType",
    "WorkTypeRules",
    "WorksPrice",
    "edition_from_tables",
    "service_price",
    "service_price_array",
    "works_price",
    "works_price_array",
]
