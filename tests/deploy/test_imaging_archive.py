"""The imaging archive (issue 18) is deployed with the engine: Orthanc with its DICOMweb plugin,
its images on a volume of its own, its users from a secret, reached by the engine over https in
Kubernetes (plain http only in the local compose demo), and by the engine's pods alone."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.test_compose_and_image import COMPOSE
from tests.deploy.test_manifests import TARGETS, of_kind, pod_spec, render


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {target: render(target) for target in TARGETS}


@pytest.mark.parametrize("target", TARGETS)
def test_kubernetes_runs_orthanc_with_dicomweb_its_volume_and_secret(
    rendered: dict[str, list[dict[str, Any]]], target: str
) -> None:
    objects = rendered[target]
    [archive] = of_kind(objects, "StatefulSet", "roi-orthanc")
    [container] = pod_spec(archive)["containers"]
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert env["DICOM_WEB_PLUGIN_ENABLED"] == "true"
    assert env["ORTHANC__AUTHENTICATION_ENABLED"] == "true"
    assert env["ORTHANC__SSL_ENABLED"] == "true"
    assert not any("PASSWORD" in k or "USERS" in k for k in env)  # credentials: the secret only
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["db"] == "/var/lib/orthanc/db"
    assert [t["metadata"]["name"] for t in archive["spec"]["volumeClaimTemplates"]] == ["db"]
    secrets = {v["name"]: v["secret"] for v in pod_spec(archive)["volumes"] if "secret" in v}
    assert {s["secretName"] for s in secrets.values()} == {"roi-orthanc"}
    assert mounts["users"] == "/run/secrets"
    assert [i["key"] for i in secrets["users"]["items"]] == ["ORTHANC__REGISTERED_USERS"]

    [config] = of_kind(objects, "ConfigMap", "roi-config")
    url = urlsplit(config["data"]["ROI_DICOMWEB_URL"])
    [service] = of_kind(objects, "Service", "roi-orthanc")
    assert url.scheme == "https" and url.hostname == "roi-orthanc"
    assert url.port == service["spec"]["ports"][0]["port"]
    [policy] = of_kind(objects, "NetworkPolicy", "roi-orthanc-ingress")
    allowed = {
        p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in policy["spec"]["ingress"]
        for p in rule["from"]
    }
    assert allowed == {"roi-worker", "roi-web"}


def test_compose_runs_orthanc_for_the_demo() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    orthanc = compose["services"]["orthanc"]
    assert orthanc["image"].startswith("orthancteam/orthanc:")
    assert orthanc["environment"]["DICOM_WEB_PLUGIN_ENABLED"] == "true"
    assert "orthanc-db:/var/lib/orthanc/db" in orthanc["volumes"]
    assert orthanc["secrets"] == [
        {"source": "orthanc_users", "target": "ORTHANC__REGISTERED_USERS"}
    ]
    assert all(p.startswith("127.0.0.1:") for p in orthanc["ports"])
    worker = compose["services"]["worker"]["environment"]
    assert worker["ROI_DICOMWEB_URL"] == "http://orthanc:8042/dicom-web"
    assert worker["ROI_ENV"] == "local"  # plain http to the archive: the local demo only
