"""Workflow code stays deterministic by construction, checked on the source itself.

The sandbox catches a clock, randomness or I/O when a test happens to run that path; this
reads every line of `domain/` and `workflows/` (what workflow code can reach), so a production
worker running without the sandbox (ROI_WORKFLOW_SANDBOX=false) runs nothing that could make
a replay diverge, on paths no test exercised as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = {
    "__future__", "collections", "contextlib", "dataclasses", "datetime", "decimal", "enum",
    "functools", "hashlib", "holidays", "json", "math", "pydantic", "re", "typing",
    "unicodedata",
    "zoneinfo", "domain",
}  # fmt: skip
ALLOWED = {
    "domain": PURE,
    "workflows": PURE | {"asyncio", "temporalio", "workflows", "activities.names"},
}
#: calls whose answer differs between the first run and a replay
FORBIDDEN_CALLS = {
    "datetime.now", "datetime.utcnow", "datetime.today", "date.today", "open", "input",
    "hash", "id", "print", "asyncio.sleep", "asyncio.wait_for", "asyncio.get_event_loop",
}  # fmt: skip


def sources(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def problems_in(path: Path, layer: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found: list[str] = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "activities":
                modules = [f"activities.{alias.name}" for alias in node.names]
        for module in modules:
            allowed = ALLOWED[layer]
            if module not in allowed and module.split(".")[0] not in allowed:
                found.append(f"{where}:{node.lineno} imports {module}")
        if isinstance(node, ast.Call) and dotted(node.func) in FORBIDDEN_CALLS:
            found.append(f"{where}:{node.lineno} calls {dotted(node.func)}()")
    return found


@pytest.mark.parametrize("layer", ["domain", "workflows"])
def test_workflow_code_reaches_no_clock_randomness_or_io(layer: str) -> None:
    assert sources(layer), layer
    problems = [p for path in sources(layer) for p in problems_in(path, layer)]
    assert problems == []


def test_the_guard_catches_what_it_is_for(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import random\nfrom datetime import datetime\nfrom activities import channels\n"
        "def f():\n    return datetime.now(), random.random(), open('x')\n"
    )
    problems = problems_in(bad, "workflows")
    assert [p.split(" ", 1)[1] for p in problems] == [
        "imports random",
        "imports activities.channels",
        "calls datetime.now()",
        "calls open()",
    ]
