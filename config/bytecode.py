"""Compiled workflow modules on disk, so the sandbox does not recompile them per workflow.

Temporal's sandbox re-imports a workflow's module for every workflow it starts or replays.
With `PYTHONDONTWRITEBYTECODE=1` (our image, many CI runners) nothing ever writes the `.pyc`,
so each import compiles `workflows/*.py` from source again: a tenth of a busy worker's CPU.
Compiling once at start-up (the image does it at build time) makes those imports cheap.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

WORKFLOWS_DIR = Path(__file__).resolve().parent.parent / "workflows"


def precompile_workflows(folder: Path = WORKFLOWS_DIR) -> bool:
    """Write the workflow modules' bytecode next to them; False if it could not be written
    (a read-only tree: then the image's build step is what provides it)."""
    try:
        ok = bool(compileall.compile_dir(str(folder), quiet=2, maxlevels=0))
    except OSError:
        ok = False
    if not ok:
        log.warning("worker.bytecode_not_written", folder=folder.name)
    return ok
