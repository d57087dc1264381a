"""Refuse the demo's conveniences outside the demo.

The defaults in config/settings.py run the local demo: a built-in link secret and payload key,
the fake FedEx on loopback, synthetic records under the data folder, an embedded PostgreSQL, an
open `/metrics`. Each is harmless on a laptop and a breach at a hospital, and each is what a
forgotten variable silently falls back to. So outside ROI_ENV=local/test the worker, the web app
and the CLI call `refuse_demo_settings` before anything else and stop, naming every offending
variable (never its value).

The worker's own metrics ports (ROI_WORKER_METRICS_PORT, ROI_TEMPORAL_METRICS_PORT) are not
refused: they carry counters labelled by codes only (no PHI, no request ids), the Temporal SDK's
exporter has no authentication to offer, and they are protected by the network instead (bound to
127.0.0.1 unless ROI_METRICS_HOST says otherwise; in Kubernetes the NetworkPolicy
`roi-worker-ingress` admits only the monitoring namespace, checked by tests/deploy).
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import structlog

from config.settings import Environment, Settings

log = structlog.get_logger(__name__)

#: Where demo conveniences are allowed.
DEMO_ENVIRONMENTS = frozenset({Environment.LOCAL, Environment.TEST})
#: A link secret shorter than this is refused (it also derives CD passwords).
MIN_SECRET_LENGTH = 32
#: Exit status of a refused start (sysexits.h EX_CONFIG: a configuration error).
EXIT_REFUSED = 78

#: Variables whose values are secrets: they belong in a Secret, never in a ConfigMap, a compose
#: literal or a log line. tests/deploy checks the manifests against this list.
SECRET_VARIABLES = frozenset(
    {
        "ROI_DATABASE_URL",  # holds the database password
        "ROI_MIGRATION_DATABASE_URL",  # the tables' owner's (the migration Job only)
        "ROI_PAYLOAD_KEYS",
        "ROI_LINK_SECRET",
        "ROI_METRICS_TOKEN",
        "ROI_SMTP_PASSWORD",
        "ROI_FEDEX_CLIENT_SECRET",
        "ROI_FHIR_TOKEN",
        "ROI_TEMPORAL_API_KEY",
        "ROI_INBOUND_FAX_SECRET",
        "ROI_INBOUND_IMAP_PASSWORD",
        "ROI_DICOMWEB_PASSWORD",
    }
)


class Component(StrEnum):
    """The programs that check their settings at start-up."""

    WORKER = "worker"
    WEB = "web"
    CLI = "cli"
    PORTAL = "portal"  # the patients' app: database, payload keys, link secret, mail, seal


@dataclass(frozen=True)
class DemoSetting:
    """One refused setting: the variable to set and why (never its value)."""

    variable: str
    reason: str

    def __str__(self) -> str:
        return f"{self.variable} {self.reason}"


class DemoSettingsRefused(SystemExit):
    """Raised to stop a program that would run with demo settings outside the demo."""

    def __init__(self, refused: list[DemoSetting]) -> None:
        super().__init__(EXIT_REFUSED)
        self.refused = refused


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _link_secret(s: Settings) -> str | None:
    default = Settings.model_fields["link_secret"].default
    if s.link_secret == default:
        return "is the built-in default; set a random value of at least 32 characters"
    if "change-me" in s.link_secret.lower():
        return "is a placeholder; set a random value of at least 32 characters"
    if len(s.link_secret) < MIN_SECRET_LENGTH:
        return "is shorter than 32 characters; set a random value of at least 32 characters"
    return None


def _payload_keys(s: Settings) -> str | None:
    if not (s.payload_keys or "").strip():
        return (
            "is unset, so Temporal payloads would be sealed with the built-in demo key; "
            'set "key-id:base64-of-32-random-bytes"'
        )
    return None


def _database_url(s: Settings) -> str | None:
    if not (s.database_url or "").strip():
        return "is unset (the embedded demo PostgreSQL); set the URL of the hospital's PostgreSQL"
    return None


def _fedex_base_url(s: Settings) -> str | None:
    if _is_loopback(_host(s.fedex_base_url)):
        return "points at loopback (the fake carrier of the demo); set FedEx's API address"
    return None


def _fedex_client(field: str) -> Callable[[Settings], str | None]:
    def check(s: Settings) -> str | None:
        if getattr(s, field) == Settings.model_fields[field].default:
            return "is the demo carrier's built-in value; set the FedEx API credentials"
        return None

    return check


def _record_source(s: Settings) -> str | None:
    if s.record_source == "folder" and s.records_dir is None:
        return (
            "is the demo's synthetic records folder (folder with ROI_RECORDS_DIR unset); "
            "set fhir with ROI_FHIR_BASE_URL, or ROI_RECORDS_DIR to the hospital's export"
        )
    return None


def _fhir_base_url(s: Settings) -> str | None:
    if s.record_source == "fhir" and not s.fhir_base_url:
        return "is unset while ROI_RECORD_SOURCE is fhir; set the FHIR server's base URL"
    return None


def _fhir_token(s: Settings) -> str | None:
    if s.record_source == "fhir" and not s.fhir_token:
        return "is unset, so patients' records would be read without credentials; set it"
    return None


def _smtp_host(s: Settings) -> str | None:
    if not s.smtp_host:
        return (
            "is unset, so requester emails would be written to the outbox folder, never sent; "
            "set the mail relay"
        )
    return None


def _smtp_password(s: Settings) -> str | None:
    if s.smtp_username and not s.smtp_password:
        return "is unset while ROI_SMTP_USERNAME is set; set the mail relay's password"
    return None


def _public_base_url(s: Settings) -> str | None:
    if not s.public_base_url:
        return (
            f"is unset, so download links would point at {s.base_url}; "
            "set the staff app's public https address"
        )
    return None


def _portal_public_base_url(s: Settings) -> str | None:
    if s.dicomweb_url and not s.portal_public_base_url:
        return (
            f"is unset, so imaging links would point at {s.portal_base_url}; "
            "set the patient portal's public https address"
        )
    return None


#: The fax webhook's key in local/test when ROI_INBOUND_FAX_SECRET is unset (app/routes/inbound).
DEMO_FAX_SECRET = "dev-only-fax-secret-change-me"


def _inbound_fax_secret(s: Settings) -> str | None:
    secret = s.inbound_fax_secret
    if secret is None:
        return None  # the webhook is off
    if secret == DEMO_FAX_SECRET or "change-me" in secret.lower():
        return "is the demo's built-in key; set a random value of at least 32 characters"
    if len(secret) < MIN_SECRET_LENGTH:
        return "is shorter than 32 characters; set a random value of at least 32 characters"
    return None


def _inbound_imap_tls(s: Settings) -> str | None:
    if s.inbound_imap_host and s.inbound_imap_tls == "none":
        return "is none, so the mailbox password and the scans would cross the network in clear"
    return None


def _dicomweb_url(s: Settings) -> str | None:
    url = s.dicomweb_url
    if url and urlsplit(url).scheme.lower() != "https" and not _is_loopback(_host(url)):
        return (
            "is plain http to another host, so images and the archive's password would "
            "cross the network in clear; use the archive's https address"
        )
    return None


def _dicomweb_password(s: Settings) -> str | None:
    if s.dicomweb_url and s.dicomweb_user and not s.dicomweb_password:
        return "is unset while ROI_DICOMWEB_USER is set; set the imaging archive's password"
    return None


def _portal_signing_key(s: Settings) -> str | None:
    if s.portal_signing_key_path is None:
        return (
            "is unset, so e-signed authorizations would be sealed with a generated demo "
            "certificate; set the path of the hospital's signing key (PEM)"
        )
    return None


def _portal_signing_cert(s: Settings) -> str | None:
    if s.portal_signing_cert_path is None:
        return (
            "is unset, so e-signed authorizations would be sealed with a generated demo "
            "certificate; set the path of the signing certificate chain (PEM)"
        )
    return None


def _metrics_token(s: Settings) -> str | None:
    if s.web_metrics and not s.metrics_token:
        return (
            "is unset while the web app serves /metrics (ROI_WEB_METRICS=true); set a random "
            "token of at least 32 characters, or ROI_WEB_METRICS=false"
        )
    return None


_ALL = frozenset(Component)
_WORKER = frozenset({Component.WORKER})
#: (variable, components that read it, check): the message if the setting is a demo one.
CHECKS: tuple[tuple[str, frozenset[Component], Callable[[Settings], str | None]], ...] = (
    ("ROI_DATABASE_URL", _ALL, _database_url),
    ("ROI_PAYLOAD_KEYS", _ALL, _payload_keys),
    # the portal opens imaging links (its study page), so it checks their tokens too
    (
        "ROI_LINK_SECRET",
        frozenset({Component.WORKER, Component.WEB, Component.PORTAL}),
        _link_secret,
    ),
    ("ROI_METRICS_TOKEN", frozenset({Component.WEB}), _metrics_token),
    ("ROI_RECORD_SOURCE", _WORKER, _record_source),
    ("ROI_FHIR_BASE_URL", _WORKER, _fhir_base_url),
    ("ROI_FHIR_TOKEN", _WORKER, _fhir_token),
    ("ROI_FEDEX_BASE_URL", _WORKER, _fedex_base_url),
    ("ROI_FEDEX_CLIENT_ID", _WORKER, _fedex_client("fedex_client_id")),
    ("ROI_FEDEX_CLIENT_SECRET", _WORKER, _fedex_client("fedex_client_secret")),
    # the portal mails one-time codes to prove a signer's email address
    ("ROI_SMTP_HOST", frozenset({Component.WORKER, Component.PORTAL}), _smtp_host),
    ("ROI_SMTP_PASSWORD", frozenset({Component.WORKER, Component.PORTAL}), _smtp_password),
    ("ROI_PUBLIC_BASE_URL", _WORKER, _public_base_url),
    ("ROI_PORTAL_PUBLIC_BASE_URL", _WORKER, _portal_public_base_url),
    ("ROI_INBOUND_FAX_SECRET", frozenset({Component.WEB}), _inbound_fax_secret),
    ("ROI_INBOUND_IMAP_TLS", _WORKER, _inbound_imap_tls),
    # the imaging archive: the worker releases from it, the web app counts what it holds
    ("ROI_DICOMWEB_URL", frozenset({Component.WORKER, Component.WEB}), _dicomweb_url),
    ("ROI_DICOMWEB_PASSWORD", frozenset({Component.WORKER, Component.WEB}), _dicomweb_password),
    # the portal seals every e-signed authorization with the hospital's own certificate
    ("ROI_PORTAL_SIGNING_KEY_PATH", frozenset({Component.PORTAL}), _portal_signing_key),
    ("ROI_PORTAL_SIGNING_CERT_PATH", frozenset({Component.PORTAL}), _portal_signing_cert),
)


def demo_settings_in_use(settings: Settings, component: Component | str) -> list[DemoSetting]:
    """The demo settings `component` would run with, in a fixed order; none in local/test.

    Cheap (no I/O), so every CLI command can afford it."""
    if settings.env in DEMO_ENVIRONMENTS:
        return []
    component = Component(component)
    refused = []
    for variable, components, check in CHECKS:
        if component in components and (reason := check(settings)) is not None:
            refused.append(DemoSetting(variable, reason))
    return refused


def refusal_message(
    settings: Settings, component: Component | str, refused: list[DemoSetting]
) -> str:
    """What an operator reads on stderr: every variable to set, and why; no values."""
    lines = [
        f"roi {Component(component)}: refusing to start with ROI_ENV={settings.env}: "
        "demo settings in use",
        *(f"  - {item}" for item in refused),
        "Demo settings are allowed only with ROI_ENV=local or ROI_ENV=test (README, Settings).",
    ]
    return "\n".join(lines)


def refuse_demo_settings(settings: Settings, component: Component | str) -> None:
    """Stop the program (DemoSettingsRefused, exit status 78) if it would run with demo
    settings outside local/test: the message on stderr, and one structured event keyed by the
    variables' names."""
    refused = demo_settings_in_use(settings, component)
    if not refused:
        return
    log.error(
        "startup.refused_demo_settings",
        component=str(Component(component)),
        env=str(settings.env),
        settings=[item.variable for item in refused],
    )
    print(refusal_message(settings, component, refused), file=sys.stderr, flush=True)
    raise DemoSettingsRefused(refused)
