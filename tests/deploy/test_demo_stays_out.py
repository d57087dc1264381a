"""The demo's stand-ins stay out of what a hospital runs: `fakes/` (fake FedEx, fake FHIR
server, synthetic patients) is neither installed nor copied into the image, and the worker, the
web app and the CLI work without it; the compose file, a demo on one host, says so
(ROI_ENV=local) and publishes nothing beyond this host."""

from __future__ import annotations

import ast
import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, ROOT

#: A subprocess prelude: any import of `fakes` fails, as in the image.
NO_FAKES = """
import importlib.abc, sys
class NoFakes(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "fakes" or name.startswith("fakes."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoFakes())
"""
#: Modules of the demo itself, which may use fakes/ inside a function (run from the checkout).
DEMO_ONLY = {"ops/demo.py", "ops/seed.py"}


def run_without_fakes(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ROI_ENV": "test",
        "ROI_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",  # built, never connected
        "ROI_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-c", NO_FAKES + script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def engine_files() -> list[Path]:
    """Every module that is installed with the engine (pyproject's packages and modules)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["packages"]["find"]["include"]
    files = [ROOT / f"{name}.py" for name in config["py-modules"]]
    for folder in sorted(p for p in ROOT.iterdir() if (p / "__init__.py").exists()):
        if any(fnmatch.fnmatch(folder.name, pattern) for pattern in patterns):
            files += sorted(folder.rglob("*.py"))
    return files


def test_fakes_are_not_installed_nor_copied_into_the_image() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for package in ("fakes", "tests", "bench"):
        assert not any(fnmatch.fnmatch(package, p) for p in patterns), package
    assert any(fnmatch.fnmatch("config", p) for p in patterns)  # the patterns do match
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {"fakes", "tests"} <= set(ignored)
    # and the build stops if a builder ignored that file
    assert "RUN test ! -e fakes && test ! -e tests" in (DEPLOY / "Dockerfile").read_text()


def test_no_engine_module_imports_fakes_at_import_time() -> None:
    offenders = []
    for path in engine_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        inside = {id(n) for f in functions for n in ast.walk(f)}
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if not any(n == "fakes" or n.startswith("fakes.") for n in names):
                continue
            where = path.relative_to(ROOT).as_posix()
            if where in DEMO_ONLY and id(node) in inside:
                continue  # the demo's seeding, from the checkout
            offenders.append(f"{where}:{node.lineno}")
    assert not offenders, f"engine code imports fakes/: {offenders}"


def test_worker_web_app_and_cli_work_without_fakes(tmp_path: Path) -> None:
    script = """
import worker, app.main, starter, ops.bootstrap
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from app.main import create_app
from config.settings import get_settings

settings = get_settings()
web = create_app(settings, database_url=settings.database_url)
assert TestClient(web).get("/healthz").status_code == 200
assert "/api/v1/requests/access_own" in web.openapi()["paths"]
activities = worker.make_activities(settings, settings.database_url)
assert len(activities) > 10
helped = CliRunner().invoke(starter.app, ["--help"])
assert helped.exit_code == 0, helped.output
print("ok")
"""
    done = run_without_fakes(script, tmp_path)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_the_folder_record_source_works_without_fakes(tmp_path: Path) -> None:
    """A patient without a folder has no records (it no longer synthesizes one from fakes/)."""
    script = f"""
from datetime import date
from activities.channels.wiring import build_source
from activities.sources.base import RecordQuery
from config.settings import Settings

source = build_source(Settings(record_source="folder", records_dir={str(tmp_path)!r}))
query = RecordQuery(first_name="Nobody", last_name="Here", date_of_birth=date(1970, 1, 1))
assert source.find(query) == []
print("ok")
"""
    done = run_without_fakes(script, tmp_path)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_publishes_on_this_host_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "127.0.0.1:7233:7233" in services["temporal"]["ports"]
    assert "127.0.0.1:8233:8080" in services["temporal-ui"]["ports"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_compose_is_a_demo_and_says_so(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("migrate", "worker", "web"):
        assert services[name]["environment"]["ROI_ENV"] == "local", name
    carrier = services["carrier"]
    assert carrier["profiles"] == ["demo"]
    assert "../fakes:/app/fakes:ro" in carrier["volumes"]  # not in the image
