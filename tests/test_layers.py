"""The project's packages form floors, and code only reaches down: read from the bottom up,
each folder needs only what is below it, so it can be understood and tested on its own.

Every module's imports are read from its source with `ast` (also those inside functions and
`if TYPE_CHECKING:` blocks, which still say what a module needs). Tests and benchmarks are
not checked; `migrations/` is Alembic's, loaded by path and importing the tables of store/
and app/. What `domain/` and `workflows/` may import (the standard library's pure modules,
temporalio, activity names) is narrower still and is checked by test_determinism_guard.py;
this file does not repeat it.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom first. A module may import its own floor and the floors below it, never above.
LAYERS = (
    "config",  # settings, logging, redaction, metrics, tracing, payload codec
    "domain",  # pure rules and types
    "letters",
    "store",
    "activities",
    "workflows",
    "services",
    "app",
    "portal",  # the patient portal: beside app, which it never imports (nor app it)
    "ops",
    "cli",
    "scripts",  # worker.py, starter.py
)
SCRIPTS = ("worker.py", "starter.py")
#: The demo's stand-ins (fake carrier, FHIR server, synthetic records): outside the floors,
#: never installed, imported only by the demo.
FAKES = "fakes"
MAY_IMPORT_FAKES = {"ops", FAKES}
#: Top-level packages that are not checked here, and why.
NOT_CHECKED = {"tests": "tests", "bench": "benchmarks"}
RANK = {layer: rank for rank, layer in enumerate(LAYERS)}


def packages() -> set[str]:
    """Top-level packages of the checkout (folders with an __init__.py)."""
    return {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}


def checked_files() -> list[tuple[str, Path]]:
    """(floor, file) for every module the rules apply to."""
    files = [("scripts", ROOT / name) for name in SCRIPTS]
    for package in sorted(packages() - set(NOT_CHECKED)):
        files += [(package, path) for path in sorted((ROOT / package).rglob("*.py"))]
    return files


def imported_modules(path: Path, package: str) -> list[tuple[int, str, str]]:
    """(line, dotted module, the import as written) for every import, wherever it stands."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = path.relative_to(ROOT).with_suffix("").parts if path.is_relative_to(ROOT) else ()
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, f"import {alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ", ".join(alias.name for alias in node.names)
            written = f"from {'.' * node.level}{node.module or ''} import {names}"
            module = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                base = ".".join(here[: len(here) - node.level]) or package
                module = f"{base}.{module}" if module else base
            found.append((node.lineno, module, written))
    return found


def floor_of(module: str, known: set[str]) -> str | None:
    """The project floor a dotted module belongs to (None: not ours)."""
    top = module.split(".")[0]
    if top in {name.removesuffix(".py") for name in SCRIPTS}:
        return "scripts"
    return top if top in known else None


def edges(files: list[tuple[str, Path]] | None = None) -> list[tuple[str, str, str]]:
    """(importer floor, imported floor, 'file:line import module') for each cross-floor import."""
    known = packages()
    found = []
    for floor, path in files if files is not None else checked_files():
        for line, module, written in imported_modules(path, floor):
            target = floor_of(module, known)
            if target is not None and target != floor:
                where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path
                found.append((floor, target, f"{where}:{line}: {written}"))
    return found


def violations(found: list[tuple[str, str, str]]) -> list[str]:
    """Each import that breaks a rule, with the rule it breaks."""
    bad = []
    for source, target, line in found:
        if target == FAKES:
            if source not in MAY_IMPORT_FAKES:
                bad.append(f"{line}  (only ops/ may import fakes/)")
        elif source == FAKES:
            continue  # the stand-ins are outside the floors
        elif target in NOT_CHECKED:
            bad.append(f"{line}  (project code never imports {NOT_CHECKED[target]})")
        elif source not in RANK or target not in RANK:
            bad.append(f"{line}  ({source} -> {target}: a package with no floor; add it)")
        elif RANK[target] > RANK[source]:
            bad.append(f"{line}  ({source} is below {target})")
    return bad


def test_every_package_has_a_floor() -> None:
    unplaced = packages() - set(LAYERS) - {FAKES} - set(NOT_CHECKED)
    assert not unplaced, f"place these packages in LAYERS (tests/test_layers.py): {unplaced}"


def test_no_import_reaches_up_a_floor() -> None:
    found = edges()
    assert len(found) > 100  # the reading found the imports at all
    bad = violations(found)
    assert not bad, "imports that break the layer rule:\n" + "\n".join(bad)


#: Floors side by side: neither may import the other (the staff app and the public portal
#: share services/ and store/, never code of their own).
SIDE_BY_SIDE = {("app", "portal"), ("portal", "app")}


def test_app_and_portal_never_import_each_other() -> None:
    bad = [line for source, target, line in edges() if (source, target) in SIDE_BY_SIDE]
    assert not bad, "app/ and portal/ import each other:\n" + "\n".join(bad)


def test_config_imports_nothing_of_the_project() -> None:
    """The bottom floor: settings are read before anything else exists."""
    bad = [line for source, _target, line in edges() if source == "config"]
    assert not bad, "config/ imports project code:\n" + "\n".join(bad)


def routes_opening_sessions(files: list[Path]) -> list[str]:
    """Route modules that import store.db's session_scope (a route takes SessionDep)."""
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line}: {written}"
        for path in files
        for line, module, written in imported_modules(path, "app")
        if module == "store.db" and "session_scope" in written
    ]


def test_routes_take_their_session_injected() -> None:
    """One transaction per request, committed before the answer (app/deps.py): no route opens
    a session of its own."""
    bad = routes_opening_sessions(sorted((ROOT / "app" / "routes").glob("*.py")))
    assert not bad, "routes open their own session:\n" + "\n".join(bad)


def test_the_session_rule_catches_a_route_opening_one(tmp_path: Path) -> None:
    probe = tmp_path / "route.py"
    probe.write_text("def f():\n    from store.db import session_scope\n")
    assert len(routes_opening_sessions([probe])) == 1


@pytest.mark.parametrize(
    ("floor", "source", "expected"),
    [
        ("store", "from services import staff\n", ["services"]),
        ("domain", "def f():\n    import app.main\n", ["app"]),
        (
            "activities",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ops.seed import seed\n",
            ["ops"],
        ),
        ("services", "from fakes.records import synthetic_patient\n", ["fakes"]),
        ("app", "import worker\n", ["scripts"]),
        ("ops", "from fakes import records\nfrom services import intake\n", []),
    ],
)
def test_the_rule_catches_an_upward_import(
    tmp_path: Path, floor: str, source: str, expected: list[str]
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    found = edges([(floor, probe)])
    bad = violations(found)
    assert [target for _s, target, line in found if any(line in b for b in bad)] == expected
    assert all(str(probe) in b for b in bad)


def graph() -> Counter[tuple[str, str]]:
    """How many imports go from each floor to each other one (for the record)."""
    return Counter((source, target) for source, target, _line in edges())


if __name__ == "__main__":  # python -m tests.test_layers: print the graph
    for (source, target), count in sorted(graph().items(), key=lambda e: RANK.get(e[0][0], -1)):
        print(f"{source:>10} -> {target:<10} {count}")
