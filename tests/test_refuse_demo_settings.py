"""Outside ROI_ENV=local/test, the worker, the web app and the CLI refuse to start on any demo
setting (config/production.py): each refusal is checked on the real program, started the way
a deployment starts it, and must name the variable to set without printing a secret."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from config.production import (
    CHECKS,
    EXIT_REFUSED,
    SECRET_VARIABLES,
    Component,
    demo_settings_in_use,
)
from config.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: Everything a production worker and web app need, with real-looking values (no network is
#: used: every program below stops before it connects anywhere).
REAL = {
    "ROI_ENV": "production",
    "ROI_DATABASE_URL": "postgresql://roi:db-pass-7f3a9c1e@db.hospital.example:5432/roi",
    "ROI_PAYLOAD_KEYS": "2026-01:" + base64.b64encode(bytes(range(32))).decode(),
    "ROI_LINK_SECRET": "link-secret-9b1d4e7a2c6f8e0b3d5a7c9e1f2a4b6c",
    "ROI_METRICS_TOKEN": "metrics-token-4c8e2a6b0d3f5a7c9e1b3d5f",
    "ROI_RECORD_SOURCE": "fhir",
    "ROI_FHIR_BASE_URL": "https://fhir.hospital.example/R4",
    "ROI_FHIR_TOKEN": "fhir-token-1a2b3c4d5e6f7a8b",
    "ROI_FEDEX_BASE_URL": "https://apis.fedex.com",
    "ROI_FEDEX_CLIENT_ID": "hospital-roi-client",
    "ROI_FEDEX_CLIENT_SECRET": "fedex-secret-8e7d6c5b4a39",
    "ROI_FEDEX_ACCOUNT_NUMBER": "740561073",
    "ROI_SMTP_HOST": "smtp.hospital.example",
    "ROI_SMTP_USERNAME": "roi-noreply",
    "ROI_SMTP_PASSWORD": "smtp-pass-5d4c3b2a1f0e",
    "ROI_PUBLIC_BASE_URL": "https://roi.hospital.example",
    "ROI_PORTAL_PUBLIC_BASE_URL": "https://patients.hospital.example",
    "ROI_DICOMWEB_URL": "https://pacs.hospital.example/dicom-web",
    "ROI_DICOMWEB_USER": "roi",
    "ROI_DICOMWEB_PASSWORD": "dicomweb-pass-3e5f7a9c1b",
    "ROI_PORTAL_SIGNING_KEY_PATH": "/run/secrets/roi-portal-signing/key.pem",
    "ROI_PORTAL_SIGNING_CERT_PATH": "/run/secrets/roi-portal-signing/chain.pem",
}
SECRET_VALUES = [REAL[name] for name in SECRET_VARIABLES if name in REAL]
UNSET = None

#: (case, the variable it must name, what changes from REAL, programs run to show the refusal;
#: every program is also checked in-process for every case, see the last tests)
CASES = [
    (
        "database-url-unset",
        "ROI_DATABASE_URL",
        {"ROI_DATABASE_URL": UNSET},
        "worker web cli portal",
    ),
    (
        "payload-keys-unset",
        "ROI_PAYLOAD_KEYS",
        {"ROI_PAYLOAD_KEYS": UNSET},
        "worker web cli portal",
    ),
    ("payload-keys-empty", "ROI_PAYLOAD_KEYS", {"ROI_PAYLOAD_KEYS": " "}, ""),
    ("link-secret-default", "ROI_LINK_SECRET", {"ROI_LINK_SECRET": UNSET}, "worker web"),
    ("link-secret-short", "ROI_LINK_SECRET", {"ROI_LINK_SECRET": "short-link-secret-2f9"}, "web"),
    (
        "link-secret-placeholder",
        "ROI_LINK_SECRET",
        {"ROI_LINK_SECRET": "demo-only-change-me-to-a-long-random-value"},
        "worker",
    ),
    ("metrics-token-unset", "ROI_METRICS_TOKEN", {"ROI_METRICS_TOKEN": UNSET}, "web"),
    ("record-source-default", "ROI_RECORD_SOURCE", {"ROI_RECORD_SOURCE": UNSET}, ""),
    ("record-source-folder", "ROI_RECORD_SOURCE", {"ROI_RECORD_SOURCE": "folder"}, "worker"),
    ("fhir-base-url-unset", "ROI_FHIR_BASE_URL", {"ROI_FHIR_BASE_URL": UNSET}, "worker"),
    ("fhir-token-unset", "ROI_FHIR_TOKEN", {"ROI_FHIR_TOKEN": UNSET}, "worker"),
    ("fedex-fake-carrier", "ROI_FEDEX_BASE_URL", {"ROI_FEDEX_BASE_URL": UNSET}, "worker"),
    (
        "fedex-localhost",
        "ROI_FEDEX_BASE_URL",
        {"ROI_FEDEX_BASE_URL": "http://localhost:8790"},
        "worker",
    ),
    ("fedex-ipv6-loopback", "ROI_FEDEX_BASE_URL", {"ROI_FEDEX_BASE_URL": "http://[::1]:8790"}, ""),
    ("fedex-demo-client-id", "ROI_FEDEX_CLIENT_ID", {"ROI_FEDEX_CLIENT_ID": UNSET}, "worker"),
    (
        "fedex-demo-client-secret",
        "ROI_FEDEX_CLIENT_SECRET",
        {"ROI_FEDEX_CLIENT_SECRET": UNSET},
        "worker",
    ),
    ("smtp-host-unset", "ROI_SMTP_HOST", {"ROI_SMTP_HOST": UNSET}, "worker"),
    ("smtp-password-unset", "ROI_SMTP_PASSWORD", {"ROI_SMTP_PASSWORD": UNSET}, "worker"),
    ("public-base-url-unset", "ROI_PUBLIC_BASE_URL", {"ROI_PUBLIC_BASE_URL": UNSET}, "worker"),
    (
        "dicomweb-plain-http",
        "ROI_DICOMWEB_URL",
        {"ROI_DICOMWEB_URL": "http://pacs.hospital.example/dicom-web"},
        "worker",
    ),
    (
        "dicomweb-password-unset",
        "ROI_DICOMWEB_PASSWORD",
        {"ROI_DICOMWEB_PASSWORD": UNSET},
        "web",
    ),
    (
        "portal-signing-key-unset",
        "ROI_PORTAL_SIGNING_KEY_PATH",
        {"ROI_PORTAL_SIGNING_KEY_PATH": UNSET},
        "portal",
    ),
    (
        "portal-signing-cert-unset",
        "ROI_PORTAL_SIGNING_CERT_PATH",
        {"ROI_PORTAL_SIGNING_CERT_PATH": UNSET},
        "",
    ),
]
#: One program run per (case, component): the programs are the expensive part.
RUNS = [
    pytest.param(variable, change, component, id=f"{case}-{component}")
    for case, variable, change, components in CASES
    for component in components.split()
]
RUN_IDS = [(run.values[0], str(run.values[1]), run.values[2]) for run in RUNS]


def environment(change: dict[str, str | None]) -> dict[str, str]:
    """This process's environment without any ROI_* variable, then REAL with `change`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROI_")}
    env.update(REAL)
    for name, value in change.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as a process with exactly `env` would read them."""
    for name in [k for k in os.environ if k.startswith("ROI_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("ROI_"):
            monkeypatch.setenv(name, value)
    return Settings()


#: The programs uvicorn serves: the staff app and the patients' portal.
UVICORN = {"web": "app.main:app", "portal": "portal.main:app"}


def command(component: str) -> list[str]:
    """How a deployment starts each program (deploy/k8s, deploy/Dockerfile)."""
    if component == "worker":
        return [sys.executable, "worker.py"]
    if component in UVICORN:
        return [str(BIN / "uvicorn"), UVICORN[component], "--host", "127.0.0.1", "--port", "0"]
    return [str(BIN / "roi"), "list"]


def run(component: str, change: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(component),
        cwd=ROOT,
        env=environment(change),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str, str], subprocess.CompletedProcess[str]]:
    """Every program run of RUNS, a few at a time (each is a fresh interpreter)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {
            key: pool.submit(run, run_.values[2], run_.values[1])
            for key, run_ in zip(RUN_IDS, RUNS, strict=True)
        }
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize(("variable", "change", "component"), RUNS)
def test_each_demo_setting_stops_the_program_and_is_named_without_secrets(
    runs: dict[tuple[str, str, str], subprocess.CompletedProcess[str]],
    variable: str,
    change: dict[str, str | None],
    component: str,
) -> None:
    done = runs[(variable, str(change), component)]
    output = done.stdout + done.stderr
    # uvicorn reports a failed start-up as 3; the worker and the CLI exit with EX_CONFIG
    assert done.returncode == (3 if component in UVICORN else EXIT_REFUSED), output[-3000:]
    assert f"roi {component}: refusing to start with ROI_ENV=production" in done.stderr
    named = [line for line in done.stderr.splitlines() if line.startswith("  - ROI_")]
    assert [line.split()[1] for line in named] == [variable], done.stderr
    # the structured event, keyed by names (JSON for the worker and web app, console for the CLI)
    event = f"settings=['{variable}']" if component == "cli" else f'"settings": ["{variable}"]'
    assert event in done.stderr
    refused_secrets = [v for k, v in change.items() if k in SECRET_VARIABLES and v and v.strip()]
    for value in [*SECRET_VALUES, *refused_secrets]:
        assert value not in output, f"{component} printed a secret"
    assert "Traceback" not in done.stderr or component in UVICORN  # uvicorn adds its own


def test_the_cli_stops_every_command_but_top_level_help() -> None:
    env = environment({"ROI_PAYLOAD_KEYS": UNSET})
    helped = subprocess.run(
        [str(BIN / "roi"), "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0 and "submit" in helped.stdout
    for args in (["migrate"], ["users", "list"], ["status", "ROI-AAAAA-AAAAA"]):
        done = subprocess.run(
            [str(BIN / "roi"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == EXIT_REFUSED, (args, done.stderr[-2000:])
        assert "  - ROI_PAYLOAD_KEYS is unset" in done.stderr


@pytest.mark.parametrize("env", [Environment.PRODUCTION, Environment.STAGING])
@pytest.mark.parametrize("component", list(Component))
def test_everything_real_passes(
    env: Environment, component: Component, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from({**REAL, "ROI_ENV": env.value}, monkeypatch)
    assert demo_settings_in_use(settings, component) == []


@pytest.mark.parametrize("env", ["local", "test"])
@pytest.mark.parametrize("component", list(Component))
def test_local_and_test_allow_every_default(
    env: str, component: Component, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from({"ROI_ENV": env}, monkeypatch)
    assert demo_settings_in_use(settings, component) == []


def test_defaults_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """ROI_ENV unset means production: every check fires for the program that reads it."""
    # these matter only with another setting: ROI_RECORD_SOURCE=fhir, ROI_SMTP_USERNAME,
    # ROI_INBOUND_IMAP_HOST; a fax key only when one is set (unset, the webhook is off); the
    # imaging archive's only when one is configured (unset, imaging goes as documents)
    conditional = {
        "ROI_DICOMWEB_URL",
        "ROI_DICOMWEB_PASSWORD",
        "ROI_PORTAL_PUBLIC_BASE_URL",
        "ROI_FHIR_BASE_URL",
        "ROI_FHIR_TOKEN",
        "ROI_SMTP_PASSWORD",
        "ROI_INBOUND_FAX_SECRET",
        "ROI_INBOUND_IMAP_TLS",
    }
    settings = settings_from({}, monkeypatch)
    assert settings.env is Environment.PRODUCTION
    for component in Component:
        refused = [item.variable for item in demo_settings_in_use(settings, component)]
        expected = [
            name
            for name, components, _ in CHECKS
            if component in components and name not in conditional
        ]
        assert refused == expected, component


def test_each_case_names_only_its_setting_for_every_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The subprocess runs above pick one program per case; here every program is checked."""
    for case, variable, change, components in CASES:
        settings = settings_from(environment(change), monkeypatch)
        for component in Component:
            refused = [item.variable for item in demo_settings_in_use(settings, component)]
            wanted = (
                [variable]
                if any(variable == name and component in c for name, c, _ in CHECKS)
                else []
            )
            assert refused == wanted, (case, component)
            if component.value in components.split():
                assert refused, (case, component)


def test_real_alternatives_to_the_demo_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hospital's own records export, an SMTP relay without a login, no /metrics, and the
    worker's metrics ports (network-protected, see config/production.py) are all allowed."""
    env = environment(
        {
            "ROI_RECORD_SOURCE": "folder",
            "ROI_RECORDS_DIR": "/mnt/records-export",
            "ROI_FHIR_BASE_URL": UNSET,
            "ROI_FHIR_TOKEN": UNSET,
            "ROI_SMTP_USERNAME": UNSET,
            "ROI_SMTP_PASSWORD": UNSET,
            "ROI_WEB_METRICS": "false",
            "ROI_METRICS_TOKEN": UNSET,
            "ROI_METRICS_HOST": "0.0.0.0",
            "ROI_WORKER_METRICS_PORT": "9464",
            "ROI_TEMPORAL_METRICS_PORT": "9465",
        }
    )
    settings = settings_from(env, monkeypatch)
    for component in Component:
        assert demo_settings_in_use(settings, component) == [], component


def test_an_archive_on_loopback_or_none_at_all_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain http is refused only across the network: an archive on this host (a TLS sidecar)
    may speak http, and without an archive imaging is released as documents."""
    for change in (
        {"ROI_DICOMWEB_URL": "http://127.0.0.1:8042/dicom-web"},
        {"ROI_DICOMWEB_URL": "http://localhost:8042/dicom-web"},
        {"ROI_DICOMWEB_URL": UNSET, "ROI_DICOMWEB_USER": UNSET, "ROI_DICOMWEB_PASSWORD": UNSET},
    ):
        settings = settings_from(environment(change), monkeypatch)
        for component in Component:
            assert demo_settings_in_use(settings, component) == [], (change, component)
