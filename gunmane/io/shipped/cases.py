"""Read the groups workspace catalogue (gunmane/data/groups/*.json) into engine objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from gunmane.engine.grouping import Case, Mechanism, Task

__all__ = ["Catalogue", "catalogue"]


@dataclass(frozen=True)
class Catalogue:
    mechanisms: tuple[Mechanism, ...]
    tasks: tuple[Task, ...]
    work_kinds: tuple[tuple[str, str], ...]
    levers: tuple[tuple[str, str, str], ...]          # key, name, explanation
    cost_share_rules: tuple[tuple[str, str], ...]
    stages: tuple[dict[str, Any], ...]                 # key, name, items [{title, evidence}], cautions, qa
    cases: tuple[Case, ...]
    support_bodies: tuple[dict[str, Any], ...]
    sources: dict[str, str]

    def mechanism(self, key: str) -> Mechanism | None:
        return next((m for m in self.mechanisms if m.key == key), None)

    def stage(self, key: str) -> dict[str, Any] | None:
        return next((s for s in self.stages if s["key"] == key), None)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("gunmane.data").joinpath("groups", name).read_text("utf-8"))
    return data


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    mech, tasks, process = _load("mechanisms.json"), _load("tasks.json"), _load("process.json")
    cases, bodies = _load("cases.json"), _load("support_bodies.json")
    return Catalogue(
        mechanisms=tuple(Mechanism(**m) for m in mech["mechanisms"]),
        tasks=tuple(Task(**t) for t in tasks["tasks"]),
        work_kinds=tuple((w["key"], w["name"]) for w in tasks["work_kinds"]),
        levers=tuple((x["key"], x["name"], x["explain"]) for x in tasks["levers"]),
        cost_share_rules=tuple((x["key"], x["name"]) for x in tasks["cost_share_rules"]),
        stages=tuple(process["stages"]),
        cases=tuple(Case(**{**c, "types": tuple(c["types"]), "members": tuple(c["members"]),
                            "sectors": tuple(c["sectors"]),
                            "prefectures": tuple(c.get("prefectures", ()))}) for c in cases["cases"]),
        support_bodies=tuple(bodies["bodies"]),
        sources={"mechanisms": mech["source"], "tasks": tasks["source"], "process": process["source"],
                 "cases": cases["source"], "support_bodies": bodies["source"]},
    )
