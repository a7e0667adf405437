"""The load benchmark's database: a synthetic ledger (合成データ) over 40 local governments of Nara, the demo
users and the demo group with its 効果試算, written into the database named by GUNMANE_DATABASE_URL.

    GUNMANE_DATABASE_URL=postgresql://… GUNMANE_DATA_DIR=/tmp/load-data \\
        python benchmarks/load_data.py --facilities 100000 --inspections 200000 --out /tmp/load-data/load.json

Run by benchmarks/load.py (in a child process: Django is set up here, never in the load driver). Steps:

1. `migrate` and the reference data (the real 1,788 local governments and their statistics);
2. the synthetic ledger of `indicators.build_nation` (seeded), its owners moved onto the 40 governments of Nara
   — the 39 municipalities and 奈良県 itself, in proportion to their real bridge counts — and written with the
   plain INSERTs of `karte_page.load_nation` (the bulk path the カルテ benchmark uses); every facility is
   is_synthetic and named 合成施設…; the id sequences are then moved past the inserted ids, so that imports
   during the load add rows as they would in production;
3. the demo users (uda, soni, mitsue, higashiyoshino: editors; nara: 奈良県 viewer; admin) and the demo group
   (奈良モデル地域, 宇陀市・曽爾村・御杖村・東吉野村＋奈良県) with its workspace and 効果試算 scenario.

It writes a small JSON file for the Locust users: the governments, the group and scenario ids, and a sample of
facility ids per government (the detail pages the users open).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import log  # noqa: E402

PREFECTURE = "290009"  # 奈良県: manages its own roads' bridges, and is the 41st … here the 40th owner
SAMPLE_PER_GOVERNMENT = 50
SEED = 20261207


def nara_owners(ref: object) -> tuple[list[str], np.ndarray]:
    """The 39 municipalities of Nara and the prefecture, weighted by bridges inspected (FY2024)."""
    from gunmane.engine.peers import municipal_codes

    codes = [c for c in municipal_codes(ref).tolist() if str(c).startswith("29")]  # type: ignore[arg-type]
    stats = ref.stats  # type: ignore[attr-defined]
    bridges = stats[stats["fiscal_year"] == stats["fiscal_year"].max()].set_index("lg_code")["bridges_inspected"]
    weight = bridges.reindex(codes).fillna(bridges.reindex(codes).median()).to_numpy(dtype="float64")
    codes.append(PREFECTURE)
    weight = np.append(weight, weight.sum() * 0.25)  # the prefecture's roads: a quarter of the municipal count
    return codes, weight / weight.sum()


def build(facilities: int, inspections: int, out: Path) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gunmane.web.settings")
    os.environ.setdefault("GUNMANE_DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    from benchmarks.indicators import build_nation
    from benchmarks.karte_page import load_nation
    from gunmane.web.demo import DEMO_GROUP, create_demo_group, create_demo_users
    from gunmane.web.groups.models import EffectScenario, Group
    from gunmane.web.registry.models import Facility, Inspection, Measure
    from gunmane.web.registry.refdata import load_reference_data

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_reference_data()
    if Facility.objects.exists():
        raise SystemExit("このデータベースにはすでに施設があります（空のデータベースを指定してください）")
    log(f"schema and reference data: {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    ref, ledger = build_nation(SEED, facilities=facilities, inspections=inspections)
    codes, weight = nara_owners(ref)
    rng = np.random.default_rng(SEED)
    owner = rng.choice(len(codes), size=len(ledger.facilities), p=weight)
    ledger.facilities["lg_code"] = np.array(codes, dtype=object)[owner]
    counts = load_nation(ledger)
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Facility, Inspection, Measure]):
            cur.execute(sql)
    log(f"synthetic ledger {counts}: {time.perf_counter() - t0:.1f} s")

    create_demo_users()
    create_demo_group()
    group = Group.objects.get(name=DEMO_GROUP)
    scenario = EffectScenario.objects.filter(group=group).order_by("pk").first()
    assert scenario is not None
    sample: dict[str, list[str]] = {}
    for code in codes:
        ids = Facility.objects.filter(manager__lg_code=code).order_by("pk").values_list("facility_id", flat=True)
        sample[code] = list(ids[:SAMPLE_PER_GOVERNMENT])
    info: dict[str, object] = {
        "facilities": counts["facilities"], "inspections": counts["inspections"], "measures": counts["measures"],
        "governments": codes, "group": group.pk, "scenario": scenario.pk,
        "group_members": list(group.accepted_members().values_list("municipality__lg_code", flat=True)),
        "sample": sample, "database": connection.vendor,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--facilities", type=int, default=100_000)
    p.add_argument("--inspections", type=int, default=200_000)
    p.add_argument("--out", type=Path, required=True, help="the JSON file for the Locust users")
    args = p.parse_args(argv)
    build(args.facilities, args.inspections, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
