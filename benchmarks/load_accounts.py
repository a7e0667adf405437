"""The demo accounts the load benchmark signs in as — shared by the Locust users (benchmarks/locustfile.py) and the
warm-up in benchmarks/load.py, which must not import the locustfile (Locust patches the standard library)."""

from __future__ import annotations

from collections.abc import Sequence

PASSWORD = "gunmane-demo"


def accounts(governments: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(account, the governments whose ledger it reads): 宇陀市・曽爾村・御杖村・東吉野村 editors, the 奈良県 viewer,
    and the administrator, who reads all ``governments``."""
    return [("uda", ["292125"]), ("soni", ["293857"]), ("mitsue", ["293865"]), ("higashiyoshino", ["294535"]),
            ("nara", ["290009"]), ("admin", list(governments))]


def karte_codes(account: str, codes: Sequence[str], group_members: Sequence[str]) -> list[str]:
    """The カルテ an account opens: its own governments', or the group members' for the administrator."""
    return list(codes) if account != "admin" else list(group_members)
