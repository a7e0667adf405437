"""The six-question page, the concept page and municipality search (public: no login).

「群マネの手引き Ver.1」 answers six questions, one chapter each; the home page a visitor sees answers each
in a few plain sentences with one figure from our own data (the national public statistics, the case
catalogue, the standard process) and leads to the page behind it. Search finds any local government by
name or reading (ひらがな・カタカナ・全角/半角, a prefecture name in front) and leads to its public カルテ.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from gunmane.io.shipped.cases import catalogue
from gunmane.web.analysis import services
from gunmane.web.registry import frames
from gunmane.web.registry.models import Municipality, MunicipalityKind, Prefecture

#: the national figure on the 状態 card (public statistics: MLIT's road maintenance annual report)
HEADLINE_INDICATOR = "bridges_iii_iv_share"
#: at most this many results are listed (a name like 中央区 or a prefecture lists more than one)
MAX_RESULTS = 60
#: at most this many suggestions for the autocomplete list
MAX_SUGGESTIONS = 12
KIND_JA = dict(MunicipalityKind.choices)


def index(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    fy = frames.latest_fiscal_year()
    karte = services.build_karte(services.resolve_scope("national"), fiscal_year=fy, visible=frozenset())
    values = {v.id: v for v in karte.indicators}
    return render(request, "guide/index.html", {
        "headline": values.get(HEADLINE_INDICATOR), "bridges": values.get("bridges_inspected"),
        "fiscal_year": fy, "cases": len(cat.cases), "cases_source": cat.sources["cases"],
        "stages": [s["name"] for s in cat.stages], "process_source": cat.sources["process"],
        "items": sum(len(s.get("items", ())) for s in cat.stages), "mechanisms": len(cat.mechanisms),
        "support_bodies": len(cat.support_bodies),
    })


def concept(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    return render(request, "guide/concept.html", {
        "lever_text": {key: explain for key, _name, explain in cat.levers},
        "stages": [s["name"] for s in cat.stages], "mechanisms": cat.mechanisms,
    })


# --------------------------------------------------------------------------- search


def normalise(text: str) -> str:
    """What a typed name is compared as: NFKC (全角英数・半角カナ → 標準の字), no spaces, katakana as hiragana."""
    folded = unicodedata.normalize("NFKC", text).replace(" ", "").replace("\u3000", "").strip()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in folded)


@dataclass(frozen=True)
class Result:
    lg_code: str
    name: str
    prefecture: str
    kind: str
    population: int | None
    url: str

    @property
    def label(self) -> str:
        return self.name if self.kind == KIND_JA[MunicipalityKind.PREFECTURE] else f"{self.prefecture}{self.name}"

    def as_json(self) -> dict[str, Any]:
        return {"lg_code": self.lg_code, "name": self.name, "label": self.label, "prefecture": self.prefecture,
                "kind": self.kind, "population": self.population, "url": self.url}


def _split_prefecture(query: str) -> tuple[Prefecture | None, str]:
    """「奈良県宇陀市」 → (奈良県, 「宇陀市」); 「ならけんうだ」 → (奈良県, 「うだ」); otherwise (None, query)."""
    for pref in Prefecture.objects.only("code", "name", "name_kana"):
        for prefix in (pref.name, normalise(pref.name_kana)):
            if prefix and query.startswith(prefix):
                return pref, query[len(prefix):]
    return None, query


def find(query: str) -> tuple[list[Result], int]:
    """Local governments whose name or reading contains the query (best first), and how many matched."""
    q = normalise(query)
    if not q:
        return [], 0
    pref, rest = _split_prefecture(q)
    rows = Municipality.objects.exclude(kind=MunicipalityKind.OTHER).select_related("prefecture")
    if pref is not None:  # the prefecture alone lists the prefecture first, then its municipalities
        rows = rows.filter(prefecture=pref)
    if rest:
        rows = rows.filter(Q(name__contains=rest) | Q(name_kana__contains=rest))
    total = rows.count()
    key = rest or (pref.name if pref else q)

    def rank(m: Municipality) -> tuple[int, int, int]:
        exact = m.name == key or m.name_kana == key
        starts = m.name.startswith(key) or m.name_kana.startswith(key)
        return (0 if m.kind == MunicipalityKind.PREFECTURE and not rest else 1, 0 if exact else 1 if starts else 2,
                -(m.population or 0))

    found = sorted(rows[:400], key=rank)[:MAX_RESULTS]
    return [Result(m.lg_code, m.name, m.prefecture.name, KIND_JA.get(m.kind, m.kind), m.population,
                   reverse("analysis:municipality", args=[m.lg_code])) for m in found], total


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:40]
    results, total = find(query)
    if request.GET.get("format") == "json":
        return JsonResponse({"query": query, "total": total,
                             "results": [r.as_json() for r in results[:MAX_SUGGESTIONS]]},
                            json_dumps_params={"ensure_ascii": False})
    if total == 1:
        return redirect(results[0].url)
    return render(request, "guide/search.html", {"query": query, "results": results, "total": total,
                                                 "searched": bool(normalise(query))})
