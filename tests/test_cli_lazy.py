"""`roi --help` starts fast: importing the app loads no heavy module (issue 16), and the
sub-apps it loads only when invoked are listed with their own help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.app import LAZY_SUB_APPS, load_sub_app

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("temporalio", "sqlalchemy", "sqlmodel", "services", "store", "activities", "letters")


def test_importing_the_cli_loads_nothing_heavy() -> None:
    script = (
        "import sys, starter; "
        f"print(sorted(m for m in {HEAVY!r} if any(k.split('.')[0] == m for k in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(LAZY_SUB_APPS))
def test_a_lazy_sub_app_is_listed_with_its_own_help(name: str) -> None:
    listed, load = LAZY_SUB_APPS[name]
    assert load().info.help == listed
    assert load_sub_app(name).help == listed
