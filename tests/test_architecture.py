"""Architecture rules for pboss, checked on the source text (the AST) of every module under pboss/.

Why: the rules that keep pboss maintainable (public APIs of the libraries only, dependencies that
point down, no import cycles, modules a reader can hold in their head, every run-time import
declared) are easy to break by accident and invisible in review. These tests read the code without
importing it, so they are fast, need no Neo4j and report every offence at once as `path:line: what`.

The rules (issue 14, "Done when"):
- no module imports or reads a private name (`_x`, not a dunder) of a third-party package, nor uses
  the known internals the redesign removed; no process-wide `gc` / `sys.setswitchinterval` tweaks;
- no import cycle between pboss modules, and package dependencies point down: inventory at the
  bottom, loaders and provisioning above it, graphql above those, http / cli / bootstrap on top;
- no module over 500 lines unless its docstring gives the reason on a line starting with `Size:`;
- every module opens with a docstring;
- every third-party package imported at run time is declared in pyproject.toml, and every name
  taken from a library module that lists its exports is one of them.
"""

from __future__ import annotations

import ast
import importlib.metadata
import itertools
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pboss"
MAX_LINES = 500

# Private attribute names of library objects that pboss was found reading (issue 14). They are
# caught on any receiver but a bare `self` / `cls` (pboss's own classes may use the same names).
KNOWN_PRIVATE_ATTRIBUTES = frozenset(
    {
        "_raw_info",  # strawberry Info -> graphql-core GraphQLResolveInfo
        "_schema",  # strawberry Schema -> graphql-core GraphQLSchema
        "_is_default",  # strawberry's default field resolver marker
        "_pool",  # neo4j driver connection pool
        "_metadata",  # neo4j result / summary metadata
        "_get_stream_transport_from_headers",  # strawberry router internals
    }
)
# Public-looking names that are internals of the libraries (issue 14): importing one is an offence.
KNOWN_INTERNAL_NAMES = {
    "StrawberryGraphQLCoreExecutionContext": "strawberry's execution-context subclass",
    "TYPE_CAST_ATTRIBUTE": "strawberry's type-cast marker attribute",
    "optimized_is_awaitable": "strawberry's internal awaitable check",
    "AutoHTTPProtocol": "uvicorn's protocol class (made to be chosen, not subclassed)",
}
# Process-wide runtime tweaks that library code must not make.
RUNTIME_TWEAKS = {
    "gc": frozenset({"freeze", "unfreeze", "set_threshold", "disable", "enable"}),
    "sys": frozenset({"setswitchinterval"}),
}
PYDANTIC_DUNDER = re.compile(r"__pydantic_\w+__")
GETATTR_LIKE = frozenset({"getattr", "hasattr", "setattr", "delattr"})

# Package layers: a package may import nothing from the packages listed for it.
FORBIDDEN_IMPORTS = {
    "pboss.inventory": (
        "pboss.loaders",
        "pboss.provisioning",
        "pboss.cutover",
        "pboss.hub",
        "pboss.crm",
        "pboss.graphql",
        "pboss.http",
        "pboss.cli",
        "pboss.bootstrap",
    ),
    "pboss.provisioning": ("pboss.hub", "pboss.crm", "pboss.graphql", "pboss.http", "pboss.cli"),
    "pboss.cutover": ("pboss.hub", "pboss.crm", "pboss.graphql", "pboss.http", "pboss.cli"),
    "pboss.hub": ("pboss.crm", "pboss.graphql", "pboss.http", "pboss.cli"),
    "pboss.crm": ("pboss.graphql", "pboss.http", "pboss.cli"),
    "pboss.loaders": ("pboss.graphql", "pboss.http", "pboss.cli"),
    "pboss.graphql": ("pboss.http", "pboss.cli"),
    "pboss.console": ("pboss.cli",),
}


@dataclass(frozen=True)
class Module:
    """One module of pboss: its dotted name, file and parsed source."""

    name: str
    path: Path
    tree: ast.Module
    lines: int

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def package(self) -> str:
        """The package relative imports in this module are resolved against."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


@dataclass
class Import:
    """One imported module (or a name from one) as written at one line."""

    module: str  # absolute dotted name of the module the statement names
    names: tuple[str, ...]  # names taken from it by `from m import a, b`; () for `import m`
    line: int
    type_checking: bool  # inside `if TYPE_CHECKING:` (never runs)
    guarded: bool  # inside `try:` whose handler catches ImportError (optional dependency)


@dataclass
class Offences:
    """Collects `path:line: what` lines and renders them as one assertion message."""

    title: str
    found: set[tuple[str, int, str]] = field(default_factory=set)

    def add(self, module: Module, line: int | None, what: str) -> None:
        self.found.add((module.rel, line or 0, what))

    def check(self) -> None:
        """Fail with one `path:line: what` line per offence, in file and line order."""
        if self.found:
            lines = [f"{p}:{n}: {w}" if n else f"{p}: {w}" for p, n, w in sorted(self.found)]
            pytest.fail(f"{self.title} ({len(lines)}):\n" + "\n".join(lines), pytrace=False)


@cache
def modules() -> tuple[Module, ...]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        text = path.read_text(encoding="utf-8")
        found.append(Module(name, path, ast.parse(text, str(path)), len(text.splitlines())))
    return tuple(found)


@cache
def module_names() -> frozenset[str]:
    return frozenset(m.name for m in modules())


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_third_party(module: str) -> bool:
    top = module.partition(".")[0]
    return top != "pboss" and top not in sys.stdlib_module_names


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        isinstance(k, ast.Name) and k.id in {"ImportError", "ModuleNotFoundError"} for k in kinds
    )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: Module) -> Iterator[Import]:
    """Every import in the module, function bodies included, with relative names made absolute."""

    def visit(node: ast.AST, type_checking: bool, guarded: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno, type_checking, guarded)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = tuple(a.name for a in node.names)
            yield Import(base, names, node.lineno, type_checking, guarded)
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, True, guarded)
            for child in node.orelse:
                yield from visit(child, type_checking, guarded)
            return
        if isinstance(node, ast.Try | ast.TryStar):
            inner = guarded or any(_catches_import_error(h) for h in node.handlers)
            for child in node.body:
                yield from visit(child, type_checking, inner)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                yield from visit(child, type_checking, guarded)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, type_checking, guarded)

    yield from visit(module.tree, False, False)


# ---------------------------------------------------------------------------------------------
# Private names and internals of third-party packages
# ---------------------------------------------------------------------------------------------


def _third_party_bindings(module: Module) -> dict[str, str]:
    """Local names bound to a third-party module or to a name imported from one -> what they are."""
    bound: dict[str, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_third_party(alias.name):
                    local = alias.asname or alias.name.partition(".")[0]
                    bound[local] = alias.name if alias.asname else local
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and is_third_party(node.module or "")
        ):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _stdlib_aliases(module: Module, stdlib: str) -> set[str]:
    names = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name == stdlib}
    return names


def private_use(module: Module) -> Iterator[tuple[int, str]]:
    """(line, what) for every use of a library's private name or known internal in the module."""
    for imp in imports(module):
        if not is_third_party(imp.module):
            continue
        private_parts = [p for p in imp.module.split(".") if is_private(p)]
        if private_parts:
            yield imp.line, f"imports private module {imp.module}"
        for name in imp.names:
            if is_private(name):
                yield imp.line, f"imports private name {name} from {imp.module}"
            if name in KNOWN_INTERNAL_NAMES:
                yield imp.line, f"imports {name} from {imp.module} ({KNOWN_INTERNAL_NAMES[name]})"
        if imp.module in RUNTIME_TWEAKS:
            for name in imp.names:
                if name in RUNTIME_TWEAKS[imp.module]:
                    yield imp.line, f"imports {imp.module}.{name} (a process-wide runtime tweak)"

    bound = _third_party_bindings(module)
    tweak_aliases = {lib: _stdlib_aliases(module, lib) for lib in RUNTIME_TWEAKS}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute):
            yield from _attribute_offences(node, bound, tweak_aliases)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in GETATTR_LIKE and len(node.args) >= 2:
                target, attr = node.args[0], node.args[1]
                if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    yield from _named_attribute(node.lineno, target, attr.value, bound, quoted=True)
            elif node.func.id in {"exec", "eval"}:
                yield node.lineno, f"runs generated code with {node.func.id}()"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and PYDANTIC_DUNDER.fullmatch(node.value)
        ):
            yield node.lineno, f"names pydantic's internal {node.value} in a string"


def _attribute_offences(
    node: ast.Attribute, bound: dict[str, str], tweak_aliases: dict[str, set[str]]
) -> Iterator[tuple[int, str]]:
    value, attr = node.value, node.attr
    if PYDANTIC_DUNDER.fullmatch(attr):
        yield node.lineno, f"reads pydantic's internal .{attr}"
    if attr == "__new__" and isinstance(value, ast.Name) and value.id == "object":
        yield node.lineno, "calls object.__new__ (builds an object around its __init__)"
    if attr == "__dict__":
        root = _root_name(value)
        if root in bound:
            yield node.lineno, f"reads {ast.unparse(node)} of {bound[root]} (a class's internals)"
    if isinstance(value, ast.Name):
        for lib, aliases in tweak_aliases.items():
            if value.id in aliases and attr in RUNTIME_TWEAKS[lib]:
                yield node.lineno, f"calls {lib}.{attr} (a process-wide runtime tweak)"
    yield from _named_attribute(node.lineno, value, attr, bound, quoted=False)


def _named_attribute(
    line: int, target: ast.expr, attr: str, bound: dict[str, str], *, quoted: bool
) -> Iterator[tuple[int, str]]:
    if not is_private(attr):
        return
    root = _root_name(target)
    if root in bound:
        yield line, f"reads private {_shown(target, attr, quoted)} of {bound[root]}"
    elif attr in KNOWN_PRIVATE_ATTRIBUTES and not (
        isinstance(target, ast.Name) and target.id in {"self", "cls"}
    ):
        shown = _shown(target, attr, quoted)
        yield line, f"reads {shown}, a known private attribute of a library object"


def _shown(target: ast.expr, attr: str, quoted: bool) -> str:
    source = ast.unparse(target)  # slow: only for offences
    return f'getattr({source}, "{attr}")' if quoted else f"{source}.{attr}"


def test_no_private_names_or_internals_of_third_party_packages() -> None:
    offences = Offences("private names or internals of third-party packages used under pboss/")
    for module in modules():
        for line, what in private_use(module):
            offences.add(module, line, what)
    offences.check()


# ---------------------------------------------------------------------------------------------
# Import graph: no cycles, dependencies point down
# ---------------------------------------------------------------------------------------------


def _targets(imp: Import) -> set[str]:
    """The pboss modules an import statement makes this module depend on."""
    if imp.module != "pboss" and not imp.module.startswith("pboss."):
        return set()
    known = module_names()
    if not imp.names:
        name = imp.module
        while name not in known and "." in name:
            name = name.rpartition(".")[0]
        return {name} if name in known else set()
    found = set()
    for name in imp.names:
        sub = f"{imp.module}.{name}"
        found.add(sub if sub in known else imp.module)
    return {t for t in found if t in known}


@cache
def import_graph() -> dict[str, dict[str, tuple[Module, int]]]:
    """module -> {pboss module it imports -> (importer, line)}; TYPE_CHECKING imports left out.

    `from pboss.a import b` depends on the module pboss.a.b when there is one, else on pboss.a;
    importing pboss.a.b is not counted as depending on the package pboss.a (whose `__init__`
    Python runs first), so a package may re-export its modules without making a cycle.
    """
    graph: dict[str, dict[str, tuple[Module, int]]] = {m.name: {} for m in modules()}
    for module in modules():
        for imp in imports(module):
            if imp.type_checking:
                continue
            for target in _targets(imp):
                if target != module.name:
                    graph[module.name].setdefault(target, (module, imp.line))
    return graph


def strongly_connected(graph: dict[str, dict[str, tuple[Module, int]]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def _cycle_through(group: list[str], graph: dict[str, dict[str, tuple[Module, int]]]) -> list[str]:
    """One shortest cycle through the group's first module (breadth-first inside the group)."""
    start, members = group[0], set(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, start]
                if child in members and child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start]


def test_no_import_cycles_between_pboss_modules() -> None:
    graph = import_graph()
    offences = Offences("import cycles between pboss modules (each shown by one cycle through it)")
    for group in strongly_connected(graph):
        cycle = _cycle_through(group, graph)
        steps = []
        for here, there in itertools.pairwise(cycle):
            module, line = graph[here][there]
            steps.append(f"{here} -> {there} ({module.rel}:{line})")
        first_module, first_line = graph[cycle[0]][cycle[1]]
        what = f"cycle of {len(group)} modules [{', '.join(group)}]: " + "; ".join(steps)
        offences.add(first_module, first_line, what)
    offences.check()


def _in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_package_dependencies_point_down() -> None:
    offences = Offences(
        "imports against the layering: inventory at the bottom, then loaders and provisioning, "
        "then graphql, then http / cli / bootstrap (TYPE_CHECKING imports count too)"
    )
    for module in modules():
        for package, forbidden in FORBIDDEN_IMPORTS.items():
            if not _in_package(module.name, package):
                continue
            for imp in imports(module):
                for target in _targets(imp) or {imp.module}:
                    upper = next((f for f in forbidden if _in_package(target, f)), None)
                    if upper is not None:
                        what = f"{module.name} imports {target}: {package} must not use {upper}"
                        offences.add(module, imp.line, what)
    offences.check()


# ---------------------------------------------------------------------------------------------
# Size and docstrings
# ---------------------------------------------------------------------------------------------


def test_modules_over_500_lines_say_why() -> None:
    offences = Offences(
        f"modules over {MAX_LINES} lines whose docstring has no line starting 'Size:'"
    )
    for module in modules():
        if module.lines <= MAX_LINES:
            continue
        doc = ast.get_docstring(module.tree) or ""
        if not any(line.strip().startswith("Size:") for line in doc.splitlines()):
            offences.add(
                module, None, f"{module.lines} lines (limit {MAX_LINES}), no 'Size:' reason"
            )
    offences.check()


def test_every_module_opens_with_a_docstring() -> None:
    offences = Offences("modules that do not open with a docstring saying what they hold and why")
    for module in modules():
        if not (ast.get_docstring(module.tree) or "").strip():
            offences.add(module, 1, "no module docstring")
    offences.check()


# ---------------------------------------------------------------------------------------------
# Declared dependencies
# ---------------------------------------------------------------------------------------------


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match, f"pyproject.toml: cannot read the requirement {requirement!r}"
    return _normalise(match.group(0))


def declared() -> tuple[set[str], set[str]]:
    """(run-time dependencies, optional run-time extras' dependencies), as normalised names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {_requirement_name(r) for r in project.get("dependencies", [])}
    optional = {
        _requirement_name(r)
        for extra, requirements in project.get("optional-dependencies", {}).items()
        if extra != "dev"
        for r in requirements
    }
    return required, optional


def test_every_third_party_import_is_a_declared_dependency() -> None:
    required, optional = declared()
    distributions = importlib.metadata.packages_distributions()
    offences = Offences(
        "third-party imports not declared in pyproject.toml [project].dependencies (an import "
        "inside try/except ImportError may come from an optional extra other than dev)"
    )
    for module in modules():
        for imp in imports(module):
            if imp.type_checking or not is_third_party(imp.module):
                continue
            top = imp.module.partition(".")[0]
            names = {_normalise(d) for d in distributions.get(top, [])}
            if not names:
                offences.add(
                    module, imp.line, f"imports {top}, which no installed distribution provides"
                )
            elif not names & (required | optional if imp.guarded else required):
                where = "an optional extra" if names & optional else "nowhere"
                offences.add(
                    module,
                    imp.line,
                    f"imports {top} (distribution {', '.join(sorted(names))}), declared {where}",
                )
    offences.check()


#: Names a library documents for use but leaves out of its module's `__all__`, each with where.
DOCUMENTED_OUTSIDE_ALL = {
    # strawberry's docs, "Authenticating Subscriptions", and release 0.254.0: raise it in
    # `on_ws_connect` to refuse a WebSocket's connection_init
    ("strawberry.exceptions", "ConnectionRejectionError"),
}


def test_names_imported_from_a_library_are_ones_it_exports() -> None:
    """A name taken from a library module that lists its exports (`__all__`) must be one of them
    (or a submodule): anything else is an internal the library may change without notice (e.g.
    `strawberry.extensions.query_depth_limiter.create_validator`). This check imports the
    library modules pboss imports (not pboss itself)."""
    import importlib

    offences = Offences("names imported from a library module that does not export them")
    for module in modules():
        for node in ast.walk(module.tree):
            if not (
                isinstance(node, ast.ImportFrom)
                and not node.level
                and is_third_party(node.module or "")
            ):
                continue
            try:
                source = importlib.import_module(node.module or "")
            except ImportError:  # an optional extra that is not installed
                continue
            exported = getattr(source, "__all__", None)
            if exported is None:
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if (node.module, alias.name) in DOCUMENTED_OUTSIDE_ALL:
                    continue
                if alias.name not in exported and submodule not in sys.modules:
                    offences.add(module, node.lineno, f"{alias.name} from {node.module}")
    offences.check()


# ---------------------------------------------------------------------------------------------
# The checks themselves: they catch what they should and nothing else
# ---------------------------------------------------------------------------------------------


def _module(source: str, name: str = "pboss.graphql.example") -> Module:
    path = ROOT.joinpath(*name.split(".")).with_suffix(".py")
    return Module(name, path, ast.parse(source), len(source.splitlines()))


def test_the_private_name_check_sees_aliases_and_known_patterns() -> None:
    source = """
import gc
import sys as system
import graphql._private as gp
import strawberry.schema as sschema
from pydantic import BaseModel as Model
from strawberry.x import _hidden
from neo4j import GraphDatabase

def resolve(info, schema, driver, field):
    info._raw_info
    schema._schema.type_map
    driver._pool
    getattr(field.resolve, "_is_default", False)
    sschema._private_helper()
    GraphDatabase._internal
    Model.__dict__["__pydantic_fields_set__"]
    object.__new__(Model)
    gc.freeze()
    system.setswitchinterval(0.001)
"""
    found = [what for _, what in private_use(_module(source))]
    expected = [
        "imports private module graphql._private",
        "imports private name _hidden from strawberry.x",
        "reads info._raw_info",
        "reads schema._schema",
        "reads driver._pool",
        'getattr(field.resolve, "_is_default")',
        "reads private sschema._private_helper of strawberry.schema",
        "reads private GraphDatabase._internal of neo4j.GraphDatabase",
        "reads Model.__dict__ of pydantic.BaseModel",
        "names pydantic's internal __pydantic_fields_set__ in a string",
        "calls object.__new__",
        "calls gc.freeze",
        "calls sys.setswitchinterval",
    ]
    missing = [e for e in expected if not any(e in f for f in found)]
    assert not missing, f"not caught: {missing}; found: {found}"


def test_the_private_name_check_leaves_cypher_and_own_attributes_alone() -> None:
    source = """
import networkx as nx
from pboss.inventory.store import _helper

LOCK = "MATCH (n {id: $id}) SET n._lock = true REMOVE n._lock"

class Writer:
    def __init__(self) -> None:
        self._pool = None
        self._metadata = {}

    def graph(self) -> object:
        _helper(self._pool)
        return nx.MultiDiGraph().__class__
"""
    assert list(private_use(_module(source))) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import() -> None:
    a, b, c = _module("", "pboss.a"), _module("", "pboss.b"), _module("", "pboss.c")
    graph = {
        "pboss.a": {"pboss.b": (a, 3)},
        "pboss.b": {"pboss.c": (b, 5)},
        "pboss.c": {"pboss.a": (c, 9)},
        "pboss.d": {"pboss.a": (a, 1)},
    }
    assert strongly_connected(graph) == [["pboss.a", "pboss.b", "pboss.c"]]
    assert _cycle_through(["pboss.a", "pboss.b", "pboss.c"], graph) == [
        "pboss.a",
        "pboss.b",
        "pboss.c",
        "pboss.a",
    ]
    inner = _module("def load() -> None:\n    from . import store\n", "pboss.inventory.neo4j.bulk")
    assert [(i.module, i.names) for i in imports(inner)] == [("pboss.inventory.neo4j", ("store",))]


def test_optional_imports_are_told_apart_from_required_ones() -> None:
    source = """
from typing import TYPE_CHECKING
try:
    import orjson
except ImportError:
    orjson = None
import fastapi
if TYPE_CHECKING:
    import neo4j
"""
    found = {(i.module, i.guarded, i.type_checking) for i in imports(_module(source))}
    assert ("orjson", True, False) in found
    assert ("fastapi", False, False) in found
    assert ("neo4j", False, True) in found
