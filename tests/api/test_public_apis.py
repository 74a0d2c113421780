"""pboss uses only public names of the packages it builds on: no module imports or reads a
private name (`_x`) of another package, and the API layers (`pboss.graphql`, `pboss.http`) make
no process-wide interpreter tweaks and build no object behind its constructor."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "pboss"
OWN = ("self", "cls")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of every private name this module imports from another package, or reads
    as an attribute of anything but its own `self` / `cls`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "pboss":
                continue
            parts = node.module.split(".")
            names = [a.name for a in node.names]
            if any(_private(p) for p in parts) or any(_private(n) for n in names):
                found.append((node.lineno, f"from {node.module} import {', '.join(names)}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(_private(p) for p in alias.name.split(".")):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in OWN):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_walk_finds_private_names() -> None:
    code = """
from strawberry.schema._x import y
from graphql import _private
import neo4j._sync
schema._schema
getattr(info, "_raw_info")
self._mine
"""
    assert [line for line, _ in private_uses(ast.parse(code))] == [2, 3, 4, 5, 6]


def test_no_module_reads_a_private_name_of_another_package() -> None:
    found = [
        f"{path.relative_to(ROOT.parent)}:{line}: {what}"
        for path in sorted(ROOT.rglob("*.py"))
        for line, what in private_uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


#: Calls the API layers never make: interpreter-wide tweaks, objects built past their __init__.
FORBIDDEN_CALLS = {
    ("gc", "freeze"),
    ("gc", "set_threshold"),
    ("gc", "disable"),
    ("sys", "setswitchinterval"),
    ("object", "__new__"),
}


def test_the_api_layers_make_no_interpreter_tweaks() -> None:
    found = []
    for package in ("graphql", "http"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and (node.value.id, node.attr) in FORBIDDEN_CALLS
                ):
                    found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "exec":
                    found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: exec")
    assert found == []
