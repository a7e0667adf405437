"""Districting inputs and results, declared as data (every result carries the assumptions it was made under)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["optimal", "feasible", "infeasible"]
Method = Literal["exact", "heuristic"]


@dataclass(frozen=True)
class FacilityPoint:
    """One facility: its id, the managing municipality (団体コード), its position, and optionally its own q.

    ``weight`` > 1 stands for that many facilities at one position (e.g. a municipality's bridge count placed at
    its office, the national approximation): they count ``weight`` times in N, always stay together in one
    district (a weighted point is never split — a restriction of the approximation), and share the point's q."""

    id: str
    lg_code: str
    lat: float
    lon: float
    q: float | None = None  # per-facility repair probability (None: the instance's q)
    weight: int = 1  # facilities at this point (N of a district = Σ weight)


@dataclass(frozen=True)
class Instance:
    """A districting question. Exactly one of ``regions`` (exactly M districts) and ``max_regions`` (at most M)
    may be set; neither means any number."""

    points: tuple[FacilityPoint, ...]
    max_distance_km: float  # D: no two facilities of a district farther apart (great circle)
    bundle_limit: int  # L: repairs one contract can bundle
    q: float  # the repair probability per facility and year (when a point has none of its own)
    regions: int | None = None
    max_regions: int | None = None
    q_source: str = ""  # where q came from (a fit file, a value given by the user), shown with the result


@dataclass(frozen=True)
class Region:
    """One district of a result."""

    id: int
    facility_ids: tuple[str, ...]
    members: dict[str, int]  # lg_code → number of its facilities in the district (Σ weight)
    max_distance_km: float  # the largest pairwise distance inside (0 for one facility)
    expected_contracts: float  # f(N, L) (Poisson-binomial with per-facility q)

    @property
    def n(self) -> int:
        """N: the facilities in the district (Σ weight of its points; the number of points when unweighted)."""
        return sum(self.members.values())


@dataclass(frozen=True)
class Baselines:
    """Expected contracts a year of the reference orderings (None where infeasible)."""

    separate: float  # each municipality orders alone, as today: one pool per municipality, however wide (the study's)
    single: float | None  # everything in one district (None when some pair is farther than D)
    individual: float  # every repair its own contract (L = 1): Σ q
    # each municipality alone but within D too: its own best districting under D (= separate when every municipality
    # is within D; None when not worked out). What districting across borders saves beyond respecting D alone.
    separate_within_d: float | None = None


@dataclass(frozen=True)
class Infeasibility:
    """Why no districting exists: which facilities cannot be together under D and M."""

    reason: str  # Japanese, for people
    facility_ids: tuple[str, ...] = ()  # a set of facilities pairwise farther than D (a clique of conflicts)
    lower_bound_regions: int = 0  # at least this many districts are needed


@dataclass(frozen=True)
class Result:
    """The answer to one Instance. ``objective`` is Σ f(N_k, L) of the returned districts; ``bound`` a proven
    lower bound on the optimum; ``gap`` = (objective − bound) / objective (0 when optimal)."""

    status: Status
    method: Method
    objective: float | None
    bound: float | None
    gap: float | None
    regions: tuple[Region, ...]
    baselines: Baselines
    q: float
    bundle_limit: int
    max_distance_km: float
    seconds: float
    assumptions: tuple[str, ...] = field(default_factory=tuple)  # Japanese sentences: q's source, distance…
    infeasibility: Infeasibility | None = None
