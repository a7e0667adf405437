"""No module reaches into another's private names (#17): what a module shares, it names without an underscore.

import-linter checks the layers (``make lint``); this checks the other half of the contract — a
``from x import _y`` or ``module._y`` across modules means the two belong together or ``_y`` is public.
Django's ``Model._meta`` is public API and allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gunmane"
ALLOWED_ATTRIBUTES = {"_meta"}


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gunmane"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} from {node.module} import {alias.name}")
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("gunmane"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported
                and node.attr.startswith("_") and not node.attr.startswith("__") and node.attr not in ALLOWED_ATTRIBUTES):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    found = [use for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts
             for use in _private_uses(path)]
    assert found == []


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    module = PACKAGE / "_probe_for_test.py"
    try:
        module.write_text("from gunmane.io.values import parsing\nfrom gunmane.cli.common import _x\n"
                          "y = parsing._secret\n", encoding="utf-8")
        uses = _private_uses(module)
    finally:
        module.unlink()
    assert len(uses) == 2 and "import _x" in uses[0] and "parsing._secret" in uses[1]
