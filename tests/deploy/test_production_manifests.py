"""The Kubernetes manifests start: each worker and web container, with the ConfigMap it reads and
the secrets it names, passes the engine's own start-up check (config/production.py). The
secrets a container must be given are derived from that check, so a new refusal without its
secret in the manifests fails here, not in a hospital's rollout."""

from __future__ import annotations

import base64
import os
import re
from typing import Any

import pytest

from config.production import SECRET_VARIABLES, Component, demo_settings_in_use
from config.settings import Settings
from tests.deploy.conftest import DEPLOY
from tests.deploy.test_manifests import TARGETS, of_kind, pod_spec, render

SECRET = "roi-secrets"
PROGRAMS = {
    "roi-worker": Component.WORKER,
    "roi-web": Component.WEB,
    "roi-portal": Component.PORTAL,
}
ENVIRONMENTS = {
    "base": "production",
    "overlays/staging": "staging",
    "overlays/production": "production",
}
#: Well-formed stand-ins for what the platform team puts in the Secret.
SECRET_VALUES = {
    "ROI_DATABASE_URL": "postgresql://roi:secret@db.hospital.example:5432/roi?sslmode=require",
    "ROI_PAYLOAD_KEYS": "2026-01:" + base64.b64encode(os.urandom(32)).decode(),
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {target: render(target) for target in TARGETS}


def config_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    [config] = of_kind(objects, "ConfigMap", "roi-config")
    return dict(config["data"])


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def environment_of(
    container: dict[str, Any], config: dict[str, str]
) -> tuple[dict[str, str], set[str]]:
    """(the values the container sees, the variables it takes from roi-secrets by name)."""
    values = dict(config) if any("configMapRef" in s for s in container["envFrom"]) else {}
    secrets: set[str] = set()
    for var in container.get("env", []):
        if "value" in var:
            values[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        assert ref == {"name": SECRET, "key": var["name"]}, var  # the key is the variable
        assert ref.get("optional") is not True, var
        secrets.add(var["name"])
    assert not any("secretRef" in s for s in container["envFrom"]), "secrets only by name"
    return values, secrets


def settings_with(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as the container's process reads them from exactly `env`."""
    with monkeypatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("ROI_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        return Settings()


def stand_in(name: str) -> str:
    return SECRET_VALUES.get(name, f"{name.lower()}-" + os.urandom(24).hex())


def test_overlays_name_their_environment_and_a_real_record_source(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for target, env in ENVIRONMENTS.items():
        config = config_of(rendered[target])
        assert config["ROI_ENV"] == env, target
        assert config["ROI_RECORD_SOURCE"] == "fhir", target  # never the demo's folder
        assert config["ROI_FHIR_BASE_URL"].startswith("https://"), target
        assert not SECRET_VARIABLES & set(config), f"{target}: a secret in the ConfigMap"
    production = config_of(rendered["overlays/production"])
    staging = config_of(rendered["overlays/staging"])
    assert production["ROI_FHIR_BASE_URL"] != staging["ROI_FHIR_BASE_URL"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_each_program_gets_exactly_the_secrets_its_start_up_check_requires(
    rendered: dict[str, list[dict[str, Any]]],
    target: str,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    component = PROGRAMS[name]
    [workload] = of_kind(rendered[target], "Deployment", name)
    container = pod_spec(workload)["containers"][0]
    values, secrets = environment_of(container, config_of(rendered[target]))
    assert not SECRET_VARIABLES & set(values), "a secret given as a literal value"

    # without its secrets the container is refused, and only for settings that are secrets
    refused = {
        r.variable for r in demo_settings_in_use(settings_with(values, monkeypatch), component)
    }
    assert refused <= SECRET_VARIABLES, (
        f"the ConfigMap leaves demo settings: {refused - SECRET_VARIABLES}"
    )
    missing, unneeded = sorted(refused - secrets), sorted(secrets - refused)
    assert refused == secrets, f"missing secretKeyRef: {missing}; not needed: {unneeded}"
    # with them (whatever the platform team stores) it starts
    complete = {**values, **{secret: stand_in(secret) for secret in secrets}}
    assert demo_settings_in_use(settings_with(complete, monkeypatch), component) == []


def test_production_names_every_secret_the_engine_has(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """A floor under the derivation above: a weakened check must not shrink the list."""
    named: set[str] = set()
    for workload in of_kind(rendered["overlays/production"], "Deployment"):
        for container in containers(workload):
            named |= environment_of(container, config_of(rendered["overlays/production"]))[1]
    assert named == {
        "ROI_DATABASE_URL",
        "ROI_PAYLOAD_KEYS",
        "ROI_LINK_SECRET",
        "ROI_METRICS_TOKEN",
        "ROI_SMTP_PASSWORD",
        "ROI_FEDEX_CLIENT_SECRET",
        "ROI_FHIR_TOKEN",
        "ROI_DICOMWEB_PASSWORD",
    }


@pytest.mark.parametrize("target", TARGETS)
def test_schema_checks_and_the_migration_get_the_database_url_only(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    """The migration Job alone gets the tables' owner; every pod, init containers too, gets
    the app's least-privilege role only (store/roles.py)."""
    config = config_of(rendered[target])
    [job] = of_kind(rendered[target], "Job", "roi-migrate")
    checks = [
        c for w in of_kind(rendered[target], "Deployment") for c in pod_spec(w)["initContainers"]
    ]
    for container in checks:
        assert environment_of(container, config)[1] == {"ROI_DATABASE_URL"}, container["name"]
    [migrate] = pod_spec(job)["containers"]
    assert environment_of(migrate, config)[1] == {"ROI_MIGRATION_DATABASE_URL"}
    for workload in of_kind(rendered[target], "Deployment"):
        for container in containers(workload):
            owner = "ROI_MIGRATION_DATABASE_URL" in environment_of(container, config)[1]
            assert not owner, f"{container['name']} would hold the tables' owner's password"


def test_the_migration_jobs_secret_is_documented(rendered: dict[str, list[dict[str, Any]]]) -> None:
    text = (DEPLOY / "README.md").read_text()
    block = text[text.index("create secret generic roi-secrets") :].split("\n\n", 1)[0]
    assert "--from-literal=ROI_MIGRATION_DATABASE_URL=" in block


def test_the_secret_documented_for_operators_holds_every_key_the_pods_name(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """deploy/README.md's `kubectl create secret` is what a platform team runs first: pods
    must then start (a secretKeyRef to a missing key stops them)."""
    text = (DEPLOY / "README.md").read_text()
    block = text[text.index("create secret generic roi-secrets") :].split("\n\n", 1)[0]
    documented = set(re.findall(r"--from-literal=(ROI_[A-Z_]+)=", block))
    named: set[str] = set()
    for target in TARGETS:
        for workload in of_kind(rendered[target], "Deployment"):
            for container in containers(workload):
                named |= environment_of(container, config_of(rendered[target]))[1]
    assert named <= documented, sorted(named - documented)


@pytest.mark.parametrize("target", TARGETS)
def test_worker_metrics_ports_are_reachable_from_monitoring_only(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    """The worker's metrics ports have no token (the Temporal SDK's exporter offers none), so
    where they listen on every interface a NetworkPolicy must admit Prometheus alone."""
    config = config_of(rendered[target])
    ports = {int(config[k]) for k in ("ROI_WORKER_METRICS_PORT", "ROI_TEMPORAL_METRICS_PORT")}
    ports.discard(0)
    if not ports or config.get("ROI_METRICS_HOST", "127.0.0.1") == "127.0.0.1":
        return
    policies = [
        p
        for p in of_kind(rendered[target], "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/name") == "roi-worker"
    ]
    assert policies, "the worker's metrics ports are open to the whole cluster"
    for policy in policies:
        assert "Ingress" in policy["spec"]["policyTypes"]
        for rule in policy["spec"]["ingress"]:
            sources = [
                s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                for s in rule["from"]
            ]
            assert sources == ["monitoring"], policy["metadata"]["name"]
            assert {p["port"] for p in rule["ports"]} <= ports


@pytest.mark.parametrize("target", TARGETS)
def test_the_portal_runs_as_itself_with_its_signing_files_and_reads_records_only(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    """Its own ServiceAccount (no token), the signing key and certificate as files from their
    own Secret at the paths its settings name, the outbox read only, and the staff app's
    metrics token or the carrier's and archive's secrets never (exact set above)."""
    [portal] = of_kind(rendered[target], "Deployment", "roi-portal")
    spec = pod_spec(portal)
    assert spec["serviceAccountName"] == "roi-portal"
    assert of_kind(rendered[target], "ServiceAccount", "roi-portal")
    [container] = spec["containers"]
    assert container["command"][:2] == ["uvicorn", "portal.main:app"]
    env = {v["name"]: v.get("value") for v in container["env"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    signing = mounts["signing"]["mountPath"]
    assert env["ROI_PORTAL_SIGNING_KEY_PATH"] == f"{signing}/key.pem"
    assert env["ROI_PORTAL_SIGNING_CERT_PATH"] == f"{signing}/cert.pem"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["signing"]["secret"]["secretName"] == "roi-portal-signing"
    assert mounts["outbox"]["readOnly"] is True
    [service] = of_kind(rendered[target], "Service", "roi-portal")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "roi-portal"}
