"""What the worker does at start-up so it stays fast under load."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from config.bytecode import WORKFLOWS_DIR, precompile_workflows


def test_workflow_modules_get_bytecode_even_when_python_writes_none(tmp_path: Path) -> None:
    """Temporal's sandbox re-imports a workflow module per workflow: with bytecode on disk that
    import reads it instead of compiling the source again (PYTHONDONTWRITEBYTECODE images)."""
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert precompile_workflows(folder)
    for source in folder.glob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.is_file(), source.name
        assert cached.stat().st_mtime >= source.stat().st_mtime


def test_bytecode_that_cannot_be_written_is_reported_not_fatal(tmp_path: Path) -> None:
    """The image compiles at build time; a worker whose tree takes no bytecode still starts."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "example.py").write_text("VALUE = 1\n")
    (folder / "__pycache__").write_text("a file where the cache folder would go")
    assert precompile_workflows(folder) is False
