"""群の設計の助け: which mechanism fits, which precedent cases look like ours, which settings would hand
an owner's judgement to someone else, which municipalities are a government's nearest neighbours.  Pure
functions over the catalogue (gunmane/data/groups, read by gunmane.io.shipped.cases), a small profile of the
group and the offices' coordinates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["EARTH_RADIUS_KM", "REGIONS", "SIZE_JA", "SECTOR_JA", "TYPE_JA", "Case", "CaseMatch", "GroupProfile", "JudgementWarning", "Mechanism",
           "MechanismSuggestion", "Neighbour", "Place", "Task", "filter_cases", "judgement_warnings", "match_cases",
           "nearest_places", "office_distance_km", "regions_of", "size_of", "suggest_mechanisms"]


@dataclass(frozen=True)
class Mechanism:
    key: str
    name: str
    article: str
    what: str
    needs_resolution: bool
    authority: str
    authority_moves: bool
    typical: str
    speed: str
    stability: str


@dataclass(frozen=True)
class Task:
    key: str
    name: str
    owner_judgement: bool


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    kind: str                 # model_region | precedent
    types: tuple[str, ...]    # horizontal / vertical / multi_sector
    members: tuple[str, ...]
    n_members: int
    prefecture_involved: bool
    sectors: tuple[str, ...]
    size: str                 # city / town / village (the typical member)
    tried: str
    figures: str
    source: str
    prefectures: tuple[str, ...] = ()  # where the members are; empty: a nationwide scheme

    @property
    def kind_ja(self) -> str:
        return "モデル地域" if self.kind == "model_region" else "先行事例"

    @property
    def types_ja(self) -> str:
        return "・".join(TYPE_JA.get(t, t) for t in self.types)

    @property
    def sectors_ja(self) -> str:
        return "・".join(SECTOR_JA.get(s, s) for s in self.sectors) or "—"

    @property
    def size_ja(self) -> str:
        return SIZE_JA.get(self.size, self.size)

    @property
    def area_ja(self) -> str:
        """Where the case is: its prefectures with their regions (8地方区分), or 全国 for a nationwide scheme."""
        if not self.prefectures:
            return "全国"
        return "・".join(self.prefectures) + "（" + "・".join(regions_of(self.prefectures)) + "）"


@dataclass(frozen=True)
class GroupProfile:
    """What the helpers need to know about a group."""

    types: tuple[str, ...]
    n_members: int
    has_prefecture: bool
    sectors: tuple[str, ...]
    size: str                                  # city / town / village: the smallest member's kind
    levers: tuple[str, ...] = ()
    wants_permanent: bool = False              # a framework meant to outlive mayors
    executes_for_others: bool = False          # a member (or the prefecture) does others' work
    shared_engineers: bool = False             # a joint technical office / shared staff
    mechanism: str = ""
    prefecture: str = ""                       # the members' prefecture, when known (cases nearby count more)
    delegations: tuple[tuple[str, str, tuple[str, ...]], ...] = field(default=())  # (member, role, task keys)


@dataclass(frozen=True)
class MechanismSuggestion:
    mechanism: Mechanism
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CaseMatch:
    case: Case
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class JudgementWarning:
    member: str
    task: str
    message: str


def suggest_mechanisms(profile: GroupProfile, mechanisms: Sequence[Mechanism]) -> list[MechanismSuggestion]:
    """Rank the mechanisms for the profile with the reasons, strongest first (guidance, not a legal opinion).

    The rules restate legal-mechanisms.md: start light (a memorandum starts within a fiscal year),
    keep the owner's authority when someone else does the work (代替執行 rather than 委託), a joint
    office for shared engineers, a partnership agreement or a body when the framework must last.
    """
    out = []
    for m in mechanisms:
        score, reasons = 0.0, []
        if m.key == "agreement":
            score += 2
            reasons.append("年度内に始められ、議会の議決が通常いらない。まず協定・覚書から始め、後で強い形に移る群が多い。")
            if profile.wants_permanent:
                score -= 2
                reasons.append("首長の交代で見直されやすいため、長く続く枠組みには弱い。")
        if m.key == "council" and profile.n_members >= 3:
            score += 2
            reasons.append(f"構成団体が {profile.n_members} 団体あり、共同の計画づくりと発注準備を協議会で調整できる。")
        if m.key == "substitute" and (profile.executes_for_others or "vertical" in profile.types):
            score += 3 if profile.has_prefecture else 2
            reasons.append("他の団体が作業を代わりに行っても、権限と責任は本来管理者に残る（心得に合う）。")
        if m.key == "delegation" and profile.executes_for_others:
            score += 1
            reasons.append("作業を任せられるが、その事務の権限は委託先に移る。診断・通行止めの判断まで移らないよう範囲に注意。")
        if m.key == "joint_organ" and profile.shared_engineers:
            score += 3
            reasons.append("共同の技術職員・事務所を置き、各団体の機関として働ける（人の群マネ）。")
        if m.key == "partnership" and (profile.wants_permanent or profile.n_members >= 4):
            score += 2 if profile.wants_permanent else 1
            reasons.append("政策と役割分担を約束し、首長が替わっても続く枠組みになる。")
        if m.key in ("association", "union"):
            if profile.wants_permanent and profile.n_members >= 5:
                score += 1.5 if m.key == "association" else 1
                reasons.append("自らの名で契約し職員を置ける恒久的な組織（泉州で検討）。設立には議決と許可が必要で時間がかかる。")
            else:
                score -= 1
                reasons.append("設立に議決と許可が必要で、最初の一歩には重い。")
        if "multi_year" in profile.levers:
            reasons.append("複数年契約には各団体の予算に債務負担行為が必要（どの仕組みでも）。")
        out.append(MechanismSuggestion(m, score, tuple(reasons)))
    return sorted(out, key=lambda s: -s.score)


_SIZE_ORDER = {"village": 0, "town": 1, "city": 2}


def match_cases(profile: GroupProfile, cases: Sequence[Case], limit: int = 5) -> list[CaseMatch]:
    """Precedents most like the group: shared collaboration types, prefecture involvement, sectors,
    number of members and size of the members (each counted with a reason)."""
    matches = []
    for c in cases:
        score, reasons = 0.0, []
        shared = set(profile.types) & set(c.types)
        if shared:
            score += 2 * len(shared)
            reasons.append("同じ連携の類型（" + "・".join(sorted(TYPE_JA.get(t, t) for t in shared)) + "）")
        if profile.has_prefecture and c.prefecture_involved:
            score += 1.5
            reasons.append("都道府県が関わる")
        common = set(profile.sectors) & set(c.sectors)
        if common:
            score += len(common)
            reasons.append("同じ分野（" + "・".join(sorted(SECTOR_JA.get(s, s) for s in common)) + "）")
        if abs(c.n_members - profile.n_members) <= 2:
            score += 1
            reasons.append(f"構成団体の数が近い（{c.n_members}団体）")
        if c.size == profile.size:
            score += 1
            reasons.append(SIZE_JA[c.size])
        elif abs(_SIZE_ORDER.get(c.size, 1) - _SIZE_ORDER.get(profile.size, 1)) == 1:
            score += 0.3
        if profile.prefecture and profile.prefecture in c.prefectures:
            score += 1
            reasons.append(f"同じ都道府県（{profile.prefecture}）")
        elif profile.prefecture and set(regions_of((profile.prefecture,))) & set(regions_of(c.prefectures)):
            score += 0.5
            reasons.append(f"同じ地方（{regions_of((profile.prefecture,))[0]}）")
        if c.figures:
            score += 0.2  # a case with reported figures is more useful to learn from
        matches.append(CaseMatch(c, score, tuple(reasons)))
    matches.sort(key=lambda m: -m.score)
    return matches[:limit]


SIZE_JA = {"city": "市が中心", "town": "町が中心", "village": "小規模な町村が中心"}

#: the eight regions (8地方区分) of Japan's 47 prefectures, north to south
REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("北海道",),
    "東北": ("青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    "関東": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県"),
    "中部": ("新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県"),
    "近畿": ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    "中国": ("鳥取県", "島根県", "岡山県", "広島県", "山口県"),
    "四国": ("徳島県", "香川県", "愛媛県", "高知県"),
    "九州・沖縄": ("福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"),
}


def regions_of(prefectures: Sequence[str]) -> list[str]:
    """The regions (8地方区分) of the prefectures, in the order of REGIONS."""
    return [r for r, prefs in REGIONS.items() if set(prefs) & set(prefectures)]


def filter_cases(cases: Sequence[Case], *, types: Sequence[str] = (), sectors: Sequence[str] = (),
                 area: str = "", size: str = "", kind: str = "") -> list[Case]:
    """The cases that have any of the types, any of the sectors, a member in the area (a region of REGIONS or a
    prefecture's name), the size and the kind (model_region / precedent); an empty criterion keeps every case.
    A nationwide scheme (no prefectures) is in no area."""
    area_prefs = set(REGIONS.get(area, (area,))) if area else set()
    return [c for c in cases
            if (not types or set(types) & set(c.types)) and (not sectors or set(sectors) & set(c.sectors))
            and (not area_prefs or area_prefs & set(c.prefectures)) and (not size or c.size == size)
            and (not kind or c.kind == kind)]


def size_of(kinds: Sequence[str]) -> str:
    """A group's size as the cases record it: its smallest member's kind (village, town, else city); the kinds
    are municipality kinds (prefecture, designated_city, core_city, city, special_ward, town, village)."""
    if "village" in kinds:
        return "village"
    if "town" in kinds:
        return "town"
    return "city"


# --------------------------------------------------------------------------- neighbours

#: the mean Earth radius (IUGG), used for the great-circle distance between two offices
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    """A local government's office (庁舎) with what a suggestion shows about it."""

    code: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    population: int | None = None


@dataclass(frozen=True)
class Neighbour:
    place: Place
    distance_km: float  # between the two offices, great-circle (haversine)


def office_distance_km(a: Place, b: Place) -> float:
    """The great-circle distance between two offices by the haversine formula (km); both need coordinates."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        raise ValueError(f"{a.name if a.lat is None or a.lon is None else b.name}の庁舎の位置がありません")
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def nearest_places(origin: Place, candidates: Sequence[Place], limit: int = 8) -> list[Neighbour]:
    """The candidates nearest to the origin's office, nearest first (ties by code), at most ``limit``.

    The origin itself and candidates without coordinates are left out; an origin without coordinates has no
    neighbours. Straight-line distance between offices is a first cut: roads, rivers and mountains decide
    how near two governments really are, so the list is a suggestion to be judged, not a grouping."""
    if origin.lat is None or origin.lon is None:
        return []
    out = [Neighbour(c, office_distance_km(origin, c)) for c in candidates
           if c.code != origin.code and c.lat is not None and c.lon is not None]
    out.sort(key=lambda n: (n.distance_km, n.place.code))
    return out[:max(0, limit)]


TYPE_JA = {"horizontal": "水平連携", "vertical": "垂直連携", "multi_sector": "多分野連携"}
SECTOR_JA = {"road": "道路", "river": "河川", "park": "公園", "sewer": "下水道", "water": "上水道", "sabo": "砂防",
             "coast": "海岸", "port": "港湾", "agri_forest": "農林道"}


def judgement_warnings(profile: GroupProfile, tasks: Sequence[Task], mechanisms: Sequence[Mechanism]
                       ) -> list[JudgementWarning]:
    """Configurations that would hand an owner's judgement (健全性の診断, 通行止めの判断, 説明責任 …) to
    someone else — the guide's 心得 warn against leaving one's responsibility to partners."""
    by_key = {t.key: t for t in tasks}
    mech = next((m for m in mechanisms if m.key == profile.mechanism), None)
    out = []
    for member, role, delegated in profile.delegations:
        for key in delegated:
            task = by_key.get(key)
            if task is None:
                continue
            if task.owner_judgement:
                out.append(JudgementWarning(member, task.name,
                                            f"{member}が「{task.name}」を他に任せる設定になっています。これは本来管理者が"
                                            "担うべき判断です（手引きの心得）。作業の補助は任せても、判断は自ら行ってください。"))
            elif mech is not None and mech.authority_moves and role != "lead":
                out.append(JudgementWarning(member, task.name,
                                            f"{mech.name}では「{task.name}」の権限が{member}から移ります。診断や通行止めの"
                                            "判断が一緒に移らないよう、委託の範囲を規約で限ってください。"))
    return out
