"""The parameters of one effects run: a :class:`ParameterSet` of sourced :class:`~gunmane.engine.parameters.Parameter`.

The shipped defaults are data (``gunmane/data/effects/parameters.csv`` and ``unit_costs.csv``, see the
README there), read by :func:`gunmane.io.shipped.parameters.effects_parameters`, which returns the
ParameterSet the CLI, the web and the benchmarks pass to the engine. A scenario overrides any of them by
id (``[parameters]`` in the scenario file); the result lists every parameter it used with its value,
source and status (see :mod:`gunmane.engine.parameters`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from gunmane.engine.effects.errors import InvalidInput, UnknownParameter
from gunmane.engine.parameters import ASSUMPTION, STATUS_LABELS, Parameter

__all__ = ["ASSUMPTION", "Parameter", "ParameterSet", "STATUS_LABELS"]


class ParameterSet(Mapping[str, Any]):
    """The parameters of one run: defaults, with user overrides marked ``status = "user"``."""

    def __init__(self, params: Iterable[Parameter] | None = None) -> None:
        if params is None:  # the engine does no file I/O: the defaults come from the io layer
            raise TypeError("ParameterSet needs its parameters; the shipped defaults are "
                            "gunmane.io.shipped.parameters.effects_parameters()")
        self._p = {p.key: p for p in params}

    def __getitem__(self, key: str) -> Any:
        return self._p[key].value

    def __iter__(self) -> Iterator[str]:
        return iter(self._p)

    def __len__(self) -> int:
        return len(self._p)

    def param(self, key: str) -> Parameter:
        return self._p[key]

    def all(self) -> tuple[Parameter, ...]:
        """Every parameter, in the order of the tables."""
        return tuple(self._p.values())

    def f(self, key: str) -> float:
        return float(self._p[key].value)

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "シナリオファイルの [parameters]") -> ParameterSet:
        new = dict(self._p)
        for key, value in overrides.items():
            if key not in new:
                near = [k for k in new if k.split(".")[0] == key.split(".")[0]][:8]
                raise UnknownParameter("unknown_parameter",
                                       f"パラメータ「{key}」はありません。"
                                       + (f"同じ分類のパラメータ: {'、'.join(near)}" if near else "docs/effects.md の一覧を参照してください。"),
                                       f"No parameter '{key}'." + (f" Similar: {', '.join(near)}" if near else ""), field=key)
            old = new[key]
            if isinstance(old.value, int | float) and not isinstance(old.value, bool):
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise InvalidInput("invalid_parameter", f"パラメータ「{key}」には 0 以上の数値を指定してください（値: {value!r}）。",
                                       f"Parameter '{key}' needs a non-negative number (got {value!r}).", field=key)
            elif isinstance(old.value, tuple):
                value = tuple(tuple(float(v) for v in pair) for pair in value)
            new[key] = replace(old, value=value, source=f"{source}（既定値 {old.value_text}：{old.source}）", status="user")
        return ParameterSet(tuple(new.values()))

    def used(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in self._p.values()]
