"""Locust users of the load benchmark (benchmarks/load.py runs them; do not import this file elsewhere: Locust
patches the standard library with gevent on import).

Each simulated user signs in through the real login form as one of the demo accounts (宇陀市・曽爾村・御杖村・
東吉野村 editors, the 奈良県 viewer, the administrator, in turn) and then, with 1–3 s of thinking between
requests, opens a mix of pages and downloads of what that account may see:

- HTML: 台帳一覧 (a random page, sometimes filtered by 健全性), 施設詳細, カルテ, 群の概要, 効果試算の結果;
- downloads: カルテ PDF, カルテ Excel, 効果試算 Excel, 台帳 Excel (the government's facilities).

A request fails when the status is not 200, a page is not the page asked for (a sign-in form, a missing title),
or a download is not an attachment of the expected type. Every request is also written, one line each, to the
CSV file named by LOAD_REQUESTS (time, kind, name, milliseconds, bytes, error), which load.py reads for the
percentiles per kind. LOAD_CONFIG names the JSON file that benchmarks/load_data.py wrote; with LOAD_TOUR=1 each
user first opens every page and download once (load.py --tour, the smoke test).
"""

from __future__ import annotations

import csv
import html
import itertools
import json
import os
import random
import re
import time
from typing import Any

from locust import HttpUser, between, events, task

from benchmarks.load_accounts import PASSWORD, accounts, karte_codes

CONFIG: dict[str, Any] = json.loads(open(os.environ["LOAD_CONFIG"], encoding="utf-8").read())  # noqa: SIM115
#: (account, the governments whose ledger it reads); the administrator reads all 40
ACCOUNTS = accounts(CONFIG["governments"])
#: request name → kind (HTML pages or downloads): load.py reports p50/p95/max per kind and per name
KINDS = {"ログイン": "sign-in", "台帳一覧": "HTML", "施設詳細": "HTML", "カルテ": "HTML", "群の概要": "HTML",
         "効果試算の結果": "HTML", "カルテ PDF": "download", "カルテ Excel": "download",
         "効果試算 Excel": "download", "台帳 Excel": "download", "作成待ち": "queued"}
#: a download made on the task queue: the 202 progress page and the polls of the job's state until it is ready
WAITING = "作成待ち"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_accounts = itertools.cycle(ACCOUNTS)
_log_file = open(os.environ.get("LOAD_REQUESTS", os.devnull), "a", newline="", encoding="utf-8")  # noqa: SIM115
_log = csv.writer(_log_file)


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response_length: int,
            exception: BaseException | None = None, **_: Any) -> None:
    _log.writerow([f"{time.time():.3f}", KINDS.get(name, "HTML"), name, f"{response_time:.1f}", response_length,
                   "" if exception is None else str(exception)[:200].replace("\n", " ")])


@events.quitting.add_listener
def _close(**_: Any) -> None:
    _log_file.flush()


class Official(HttpUser):
    """A municipal official (or the prefecture, or the administrator) reading the ledger and the group's work."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.account, self.codes = next(_accounts)
        self.group_pk = CONFIG["group"]
        self.scenario_pk = CONFIG["scenario"]
        self.karte_codes = karte_codes(self.account, self.codes, CONFIG["group_members"])
        self.client.get("/accounts/login/", name="ログイン")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post("/accounts/login/", name="ログイン", catch_response=True,
                              data={"username": self.account, "password": PASSWORD, "csrfmiddlewaretoken": token}) as r:
            if r.status_code != 200 or "/accounts/login/" in r.url:
                r.failure(f"ログインできません（{self.account}）")
        if os.environ.get("LOAD_TOUR") == "1":  # every page and download once first (the smoke test's coverage)
            for each in (self.ledger_list, self.facility_detail, self.karte, self.group_overview, self.effects_result,
                         self.karte_pdf, self.karte_xlsx, self.effects_xlsx, self.ledger_xlsx):
                each()

    # -- checks ---------------------------------------------------------------------------------------
    def _page(self, url: str, name: str, marker: str) -> None:
        def check(r: Any) -> str | None:
            if r.status_code != 200:
                return f"HTTP {r.status_code}"
            if "/accounts/login/" in r.url:
                return "ログイン画面に戻されました"
            return None if marker in r.text else f"「{marker}」がありません"

        self._get(url, name, check)

    def _download(self, url: str, name: str, content_type: str) -> None:
        def check(r: Any) -> str | None:
            if r.status_code != 200:
                return f"HTTP {r.status_code}"
            if not r.headers.get("Content-Type", "").startswith(content_type):
                return f"種類が違います: {r.headers.get('Content-Type')}"
            if "attachment" not in r.headers.get("Content-Disposition", "") or len(r.content) < 100:
                return "ファイルになっていません"
            return None

        self._get(url, name, check)

    def _get(self, url: str, name: str, check: Any, attempts: int = 3) -> None:
        """GET url and check the answer; when the server answers 202 (the work is on the task queue: its progress
        page), wait as the page's script does — poll the job's state — then ask again. The progress page and the
        polls are recorded as 作成待ち, apart from the page or file itself."""
        with self.client.get(url, name=name, catch_response=True) as r:
            if r.status_code != 202:
                if problem := check(r):
                    r.failure(problem)
                return
            r.request_meta["name"] = WAITING
            found = re.search(r'data-job-status="([^"]+)"', r.text)
            if found is None:
                r.failure("進み具合のページに状態の URL がありません")
                return
            r.success()
        if attempts == 0:
            self._fail(name, "作り直しが続き、できあがりません")
        elif self._wait(html.unescape(found.group(1)), name):
            self._get(url, name, check, attempts - 1)

    def _wait(self, state_url: str, name: str, seconds: float = 120) -> bool:
        """Poll a job's state until it is ready (True) or failed or too slow (False, recorded as a failure)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with self.client.get(state_url, name=WAITING, catch_response=True) as s:
                if s.status_code == 404:  # newer data replaced the job: ask the page again, as jobs.js does
                    s.success()
                    return True
                state = s.json() if s.status_code == 200 else {}
            if state.get("status") == "failed":
                self._fail(name, f"作成に失敗しました: {state.get('message')}")
                return False
            if state.get("ready"):
                return True
        self._fail(name, f"{seconds:g} 秒でできません")
        return False

    def _fail(self, name: str, message: str) -> None:
        self.environment.events.request.fire(request_type="GET", name=name, response_time=0, response_length=0,
                                             exception=RuntimeError(message), context={}, response=None, url=name)

    # -- the mix --------------------------------------------------------------------------------------
    @task(6)
    def ledger_list(self) -> None:
        code = random.choice(self.codes)
        query = random.choice(["", f"?page={random.randint(1, 20)}", "?grade=3", "?sort=-latest_grade"])
        self._page(f"/municipalities/{code}/facilities/{query}", "台帳一覧", "施設")

    @task(6)
    def facility_detail(self) -> None:
        code = random.choice(self.codes)
        facility = random.choice(CONFIG["sample"][code])
        self._page(f"/municipalities/{code}/facilities/{facility}/", "施設詳細", facility)

    @task(4)
    def karte(self) -> None:
        self._page(f"/karte/{random.choice(self.karte_codes)}/", "カルテ", "カルテ")

    @task(3)
    def group_overview(self) -> None:
        self._page(f"/groups/{self.group_pk}/", "群の概要", "奈良モデル地域")

    @task(3)
    def effects_result(self) -> None:
        self._page(f"/groups/{self.group_pk}/effects/{self.scenario_pk}/", "効果試算の結果", "効果試算")

    @task(1)
    def karte_pdf(self) -> None:
        self._download(f"/karte/{random.choice(self.karte_codes)}/?format=pdf", "カルテ PDF", PDF)

    @task(1)
    def karte_xlsx(self) -> None:
        self._download(f"/karte/{random.choice(self.karte_codes)}/?format=xlsx", "カルテ Excel", XLSX)

    @task(1)
    def effects_xlsx(self) -> None:
        self._download(f"/groups/{self.group_pk}/effects/{self.scenario_pk}/?format=xlsx", "効果試算 Excel", XLSX)

    @task(1)
    def ledger_xlsx(self) -> None:
        self._download(f"/municipalities/{random.choice(self.codes)}/export/facilities.xlsx", "台帳 Excel", XLSX)
