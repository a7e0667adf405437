"""Import benchmark: gunmane's validated import against a naive pandas load of the same files.

    python benchmarks/import_ledger.py            # 100,000 facilities + 200,000 inspections, 3 runs, 1M-row file
    python benchmarks/import_ledger.py --quick    # 10,000 + 20,000, 1 run, no 1M-row file (< 1 minute)
    python benchmarks/import_ledger.py --postgres postgresql://postgres@127.0.0.1:5433/postgres

For SQLite, and for PostgreSQL when `--postgres URL` or GUNMANE_TEST_DATABASE_URL is given (the URL's
user must be allowed to create databases: each run gets a fresh `gunmane_bench_*` database, dropped
afterwards), it measures in the same run:

1. gunmane: the real LedgerImporter through Django (facilities, then inspections) into a database
   made by `gunmane init` (migrations + reference data; not timed);
2. naive: `pandas.read_csv` + `DataFrame.to_sql` through SQLAlchemy into an empty database of the same
   kind — no validation, no constraints, no upsert;
3. the ratio gunmane / naive.

Each measurement runs in its own child process: the time is taken inside the child around the load
only (interpreter and Django start-up excluded on both sides), the peak memory is the child's maximum
resident set size as reported by the kernel (os.wait4). The figures are the median of `--runs` runs.
A full run rewrites the results section of docs/benchmarks.md (`--no-docs` to keep it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks.ledger_files` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.ledger_files import write_facilities, write_inspections  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS_START = "<!-- results:start (written by benchmarks/import_ledger.py) -->"
RESULTS_END = "<!-- results:end -->"
SEED = 20251127
LG_CODE = "292125"  # 宇陀市: the files are one municipality's ledger
TARGET_RATIO = 2.0
TARGET_PEAK_MB = 1024


# -- child processes ---------------------------------------------------------------------------------
def child_gunmane(facilities: Path, inspections: Path | None) -> dict[str, Any]:
    """Import through Django exactly as `gunmane import` does (database from the environment)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gunmane.web.settings")
    import django

    django.setup()
    from gunmane.web.registry.imports.ledger import LedgerImporter
    from gunmane.web.registry.models import Municipality

    muni = Municipality.objects.get(lg_code=LG_CODE)
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for kind, path in (("facilities", facilities), ("inspections", inspections)):
        if path is None:
            continue
        t0 = time.perf_counter()
        report = LedgerImporter(kind, path, municipality=muni).run()
        if report.status != "ok" or report.invalid:
            raise SystemExit(f"{kind}: import failed: {report.as_json()['errors'][:5]}")
        out[kind] = {"rows": report.rows, "created": report.created, "seconds": time.perf_counter() - t0,
                     "warnings": report.warnings_total}
    out["seconds"] = time.perf_counter() - start
    return out


def child_naive(url: str, facilities: Path, inspections: Path | None) -> dict[str, Any]:
    """What a script without validation does: read each CSV whole, write it with to_sql."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for table, path in (("facilities", facilities), ("inspections", inspections)):
        if path is None:
            continue
        df = pd.read_csv(path)
        df.to_sql(table, engine, index=False)
        out[table] = {"rows": len(df)}
        del df
    out["seconds"] = time.perf_counter() - start
    engine.dispose()
    return out


def child_read_whole(path: Path, how: str) -> dict[str, Any]:
    """The whole file held in memory, for comparison: as a DataFrame, or as the rows csv.reader gives."""
    start = time.perf_counter()
    if how == "pandas":
        import pandas as pd

        rows = len(pd.read_csv(path))
    else:
        import csv

        with path.open(encoding="utf-8", newline="") as fh:
            rows = len(list(csv.reader(fh))) - 1
    return {"rows": rows, "seconds": time.perf_counter() - start}


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    detail: dict[str, Any] = field(default_factory=dict)


def run_child(args: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run this script in child mode; its peak RSS comes from the kernel's rusage of that one child."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child cannot block on it
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args],
                                env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=errors)
        stdout_data = proc.stdout.read() if proc.stdout else b""
        if proc.stdout:
            proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child: its own rusage, not all children's
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"child {args[:2]} failed ({proc.returncode}):\n{errors.read().decode(errors='replace')}")
    detail = json.loads(stdout_data.decode().strip().splitlines()[-1])
    return Measured(detail["seconds"], usage.ru_maxrss / 1024, detail)  # ru_maxrss is in KiB on Linux


# -- databases ---------------------------------------------------------------------------------------
class SqliteTarget:
    """A database made once by `gunmane init`, copied for every run (the copy is not timed)."""

    name = "SQLite"

    def __init__(self, work: Path) -> None:
        self.work = work / "sqlite"
        self.template = self.work / "template"

    def prepare(self) -> None:
        self.template.mkdir(parents=True)
        _gunmane_init({"GUNMANE_DATA_DIR": str(self.template)})

    def fresh(self, label: str) -> dict[str, str]:
        data = self.work / label
        data.mkdir()
        shutil.copy(self.template / "gunmane.sqlite3", data / "gunmane.sqlite3")
        return {"GUNMANE_DATA_DIR": str(data)}

    def naive_url(self, label: str) -> str:
        return f"sqlite:///{self.work / f'{label}.sqlite3'}"

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class PostgresTarget:
    """Fresh databases on the given server: one template by `gunmane init`, then a copy per run."""

    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)

    def _url(self, database: str, driver: str = "postgresql") -> str:
        return _with_database(re.sub(r"^postgres(ql)?(\+\w+)?://", f"{driver}://", self.url), database)

    def _create(self, database: str, template: str | None = None) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{database}"')
        self._admin(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(database)

    def prepare(self) -> None:
        self._create("gunmane_bench_template")
        _gunmane_init({"GUNMANE_DATABASE_URL": self._url("gunmane_bench_template")})

    def fresh(self, label: str) -> dict[str, str]:
        self._create(f"gunmane_bench_{label}", "gunmane_bench_template")
        return {"GUNMANE_DATABASE_URL": self._url(f"gunmane_bench_{label}")}

    def naive_url(self, label: str) -> str:
        self._create(f"gunmane_bench_naive_{label}")
        return self._url(f"gunmane_bench_naive_{label}", "postgresql+psycopg")

    def cleanup(self) -> None:
        for database in reversed(self.created):
            self._admin(f'DROP DATABASE IF EXISTS "{database}"')
        self.created.clear()


def _with_database(url: str, database: str) -> str:
    scheme, rest = url.split("://", 1)
    netloc, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return f"{scheme}://{netloc}/{database}" + (f"?{query}" if query else "")


def _gunmane_init(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "gunmane", "init"], env={**os.environ, **env}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# -- measuring ---------------------------------------------------------------------------------------
@dataclass
class DatabaseResult:
    database: str
    rows: int
    gunmane: list[Measured]
    naive: list[Measured]

    @property
    def gunmane_s(self) -> float:
        return statistics.median(m.seconds for m in self.gunmane)

    @property
    def naive_s(self) -> float:
        return statistics.median(m.seconds for m in self.naive)

    @property
    def ratio(self) -> float:
        return self.gunmane_s / self.naive_s

    @property
    def peak_mb(self) -> float:
        return statistics.median(m.peak_mb for m in self.gunmane)

    @property
    def naive_peak_mb(self) -> float:
        return statistics.median(m.peak_mb for m in self.naive)

    def stage_s(self, kind: str) -> float:
        return statistics.median(m.detail[kind]["seconds"] for m in self.gunmane)


def measure(target: SqliteTarget | PostgresTarget, facilities: Path, inspections: Path, rows: int,
            runs: int) -> DatabaseResult:
    log(f"{target.name}: preparing the database (gunmane init)…")
    target.prepare()
    result = DatabaseResult(target.name, rows, [], [])
    try:
        for i in range(runs):
            env = target.fresh(f"run{i}")
            g = run_child(["--child", "gunmane", str(facilities), str(inspections)], env)
            result.gunmane.append(g)
            n = run_child(["--child", "naive", target.naive_url(f"run{i}"), str(facilities), str(inspections)])
            result.naive.append(n)
            log(f"{target.name} run {i + 1}/{runs}: gunmane {g.seconds:.2f} s "
                f"(facilities {g.detail['facilities']['seconds']:.2f} s, "
                f"inspections {g.detail['inspections']['seconds']:.2f} s), peak {g.peak_mb:.0f} MB; "
                f"naive {n.seconds:.2f} s, peak {n.peak_mb:.0f} MB; ratio {g.seconds / n.seconds:.2f}×")
    finally:
        target.cleanup()
    return result


@dataclass
class BigResult:
    rows: int
    file_mb: float
    gunmane: Measured
    pandas: Measured  # the whole file read by pandas.read_csv
    csv_rows: Measured  # the whole file as a list of csv.reader rows


def measure_big(work: Path, rows: int) -> BigResult:
    log(f"1M-row check: writing {rows:,} facilities…")
    path = work / "facilities_big.csv"
    write_facilities(path, rows, SEED + 7)
    target = SqliteTarget(work / "big")
    (work / "big").mkdir()
    target.prepare()
    try:
        g = run_child(["--child", "gunmane", str(path), "-"], target.fresh("big"))
    finally:
        target.cleanup()
    whole = run_child(["--child", "read-whole", str(path), "pandas"])
    listed = run_child(["--child", "read-whole", str(path), "csv"])
    result = BigResult(rows, path.stat().st_size / 2**20, g, whole, listed)
    log(f"{rows:,}-row file ({result.file_mb:.0f} MB): gunmane {g.seconds:.1f} s, peak {g.peak_mb:.0f} MB; "
        f"the whole file in memory: pandas.read_csv peak {whole.peak_mb:.0f} MB, "
        f"csv.reader rows in a list peak {listed.peak_mb:.0f} MB")
    path.unlink()
    return result


# -- report ------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import django
    import pandas
    import sqlalchemy

    return {"cpu": cpu, "nproc": str(os.cpu_count()), "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "django": django.get_version(),
            "pandas": pandas.__version__, "sqlalchemy": sqlalchemy.__version__}


def render(results: list[DatabaseResult], big: BigResult | None, info: dict[str, str], runs: int,
           command: str, postgres_version: str | None) -> str:
    lines = [
        f"Measured {date.today().isoformat()} with `{command}` — median of {runs} run(s).",
        "",
        f"Machine: {info['cpu']}, {info['nproc']} CPUs (nproc), {info['os']}; Python {info['python']}, "
        f"Django {info['django']}, pandas {info['pandas']}, SQLAlchemy {info['sqlalchemy']}"
        + (f"; {postgres_version}" if postgres_version else "") + ".",
        "",
    ]
    for r in results:
        lines += [
            f"#### {r.database}",
            "",
            "| rows (facilities + inspections) | gunmane s | naive s | ratio | gunmane rows/s | gunmane peak MB "
            "| naive peak MB |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {r.rows:,} | {r.gunmane_s:.2f} | {r.naive_s:.2f} | {r.ratio:.2f}× | {r.rows / r.gunmane_s:,.0f} "
            f"| {r.peak_mb:.0f} | {r.naive_peak_mb:.0f} |",
            "",
            f"Target (ratio ≤ {TARGET_RATIO:.1f}×, peak < {TARGET_PEAK_MB} MB): "
            f"{'met' if r.ratio <= TARGET_RATIO and r.peak_mb < TARGET_PEAK_MB else 'not met'}. "
            f"gunmane by stage (median): facilities {r.stage_s('facilities'):.2f} s, inspections "
            f"{r.stage_s('inspections'):.2f} s (with the refresh of the latest grades). "
            f"Each run, gunmane / naive: "
            + ", ".join(f"{g.seconds:.2f} / {n.seconds:.2f} s" for g, n in zip(r.gunmane, r.naive, strict=True))
            + ".",
            "",
        ]
    if big is not None:
        lines += [
            f"#### {big.rows:,}-row facilities file (SQLite, one run)",
            "",
            "| rows | file MB | gunmane s | rows/s | gunmane peak MB | whole file in memory: pandas.read_csv, peak MB "
            "| whole file in memory: csv.reader rows, peak MB |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {big.rows:,} | {big.file_mb:.0f} | {big.gunmane.seconds:.1f} | {big.rows / big.gunmane.seconds:,.0f} "
            f"| {big.gunmane.peak_mb:.0f} | {big.pandas.peak_mb:.0f} | {big.csv_rows.peak_mb:.0f} |",
            "",
        ]
    return "\n".join(lines)


def write_docs(section: str) -> None:
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else f"# Import benchmark\n\n{RESULTS_START}\n{RESULTS_END}\n"
    if RESULTS_START not in text:
        text += f"\n{RESULTS_START}\n{RESULTS_END}\n"
    head, rest = text.split(RESULTS_START, 1)
    tail = rest.split(RESULTS_END, 1)[1] if RESULTS_END in rest else "\n"
    DOCS.write_text(f"{head}{RESULTS_START}\n{section}\n{RESULTS_END}{tail}", encoding="utf-8")
    log(f"wrote {DOCS.relative_to(ROOT)}")


def postgres_server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="gunmane-bench-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10,000 facilities, 1 run, no 1M-row file, docs untouched (a smoke test)")
    parser.add_argument("--rows", type=int, help="facilities (inspections: twice as many); default 100,000")
    parser.add_argument("--runs", type=int, help="runs per measurement (median); default 3")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("GUNMANE_TEST_DATABASE_URL"),
                        help="also measure PostgreSQL (default: $GUNMANE_TEST_DATABASE_URL)")
    parser.add_argument("--big", dest="big", action="store_true", default=None,
                        help="also import a 1,000,000-row facilities file (default unless --quick)")
    parser.add_argument("--no-big", dest="big", action="store_false")
    parser.add_argument("--big-rows", type=int, default=1_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only (docs untouched)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        mode, *paths = args.child
        if mode == "gunmane":
            detail = child_gunmane(Path(paths[0]), None if paths[1] == "-" else Path(paths[1]))
        elif mode == "naive":
            detail = child_naive(paths[0], Path(paths[1]), Path(paths[2]))
        else:
            detail = child_read_whole(Path(paths[0]), paths[1])
        print(json.dumps(detail))
        return 0

    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres URL (or GUNMANE_TEST_DATABASE_URL)")
    rows = args.rows or (10_000 if args.quick else 100_000)
    runs = args.runs or (1 if args.quick else 3)
    big = (not args.quick) if args.big is None else args.big
    info = machine()
    log(f"{info['cpu']}, {info['nproc']} CPUs, Python {info['python']}")
    results: list[DatabaseResult] = []
    big_result: BigResult | None = None
    with workdir() as work:
        facilities, inspections = work / "facilities.csv", work / "inspections.csv"
        ids = write_facilities(facilities, rows, SEED)
        n_inspections = write_inspections(inspections, ids, 2, SEED)
        total = rows + n_inspections
        log(f"files: {rows:,} facilities ({facilities.stat().st_size / 2**20:.1f} MB), "
            f"{n_inspections:,} inspections ({inspections.stat().st_size / 2**20:.1f} MB)")
        if not args.no_sqlite:
            results.append(measure(SqliteTarget(work), facilities, inspections, total, runs))
        if args.postgres:
            results.append(measure(PostgresTarget(args.postgres), facilities, inspections, total, runs))
        if big:
            big_result = measure_big(work, args.big_rows)

    command = "python benchmarks/import_ledger.py" + (" --quick" if args.quick else "") + (
        " --postgres URL" if args.postgres else "") + (f" --runs {runs}" if args.runs else "")
    section = render(results, big_result, info, runs, command,
                     postgres_server_version(args.postgres) if args.postgres else None)
    print(section)
    if not (args.quick or args.no_docs or args.no_sqlite) and args.rows is None:
        write_docs(section)
    ok = all(r.ratio <= TARGET_RATIO and r.peak_mb < TARGET_PEAK_MB for r in results)
    log(f"target (ratio ≤ {TARGET_RATIO}×, peak < {TARGET_PEAK_MB} MB): {'met' if ok else 'NOT met'}"
        + ("" if rows == 100_000 else " (the target is set for 100,000 facilities; this run had fewer or more)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
