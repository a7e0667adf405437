"""ロット設計（lots）: partition a group's field work into contract lots (OR-Tools CP-SAT), with the best
bound and gap, compared with one lot per municipality and one lot for the group."""

from gunmane.engine.lots.design import Lot, LotDesign, LotPlan, LotSettings, design_lots

__all__ = ["Lot", "LotDesign", "LotPlan", "LotSettings", "design_lots"]
