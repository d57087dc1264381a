"""All configuration, from the environment (prefix ROI_); documented in README.md."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    """Where the engine runs. Demo conveniences (built-in secrets, the fake carrier, the demo
    record folder) are allowed only in `local` and `test` (config/production.py)."""

    LOCAL = "local"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob the engine has. Defaults run the local demo, and are refused outside it:
    `env` defaults to production, so a forgotten setting fails closed."""

    model_config = SettingsConfigDict(env_prefix="ROI_", extra="ignore")

    env: Environment = Environment.PRODUCTION  # scripts/demo sets local, scripts/test sets test

    database_url: str | None = None  # None: start the embedded PostgreSQL under data_dir
    # The app connects as a least-privilege role (roi_app, store/roles.py); migrations run as
    # the tables' owner: `roi migrate` and `python -m ops.bootstrap` use this URL when set.
    migration_database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "roi-requests"
    # Temporal payloads are encrypted (config/codec.py): "key-id:base64-32-bytes,…", the first
    # encrypts, every one decrypts (rotation). Unset: a built-in key, refused outside local/test.
    payload_keys: str | None = None
    temporal_tls: bool = False  # TLS to the Temporal frontend (implied by any setting below)
    temporal_tls_ca_path: Path | None = None  # CA that signed the frontend's certificate
    temporal_tls_cert_path: Path | None = None  # mTLS client certificate (with the key below)
    temporal_tls_key_path: Path | None = None
    temporal_tls_server_name: str | None = None  # SNI / name to verify, if not the address's
    temporal_api_key: str | None = None  # Temporal Cloud API key (sent as a bearer token)
    # Reverse proxies whose X-Forwarded-For the web app believes (addresses or CIDRs, comma
    # separated). Empty: none; the client address is the connection's peer, whatever it sends.
    trusted_proxies: str = ""
    # Origins of the Temporal Web UI allowed to call the staff app's /codec/decode
    codec_cors_origins: str = "http://localhost:8233,http://127.0.0.1:8233"
    outbox_dir: Path | None = None  # None: data_dir / "outbox"
    outbox_latency_ms: int = 0  # simulated channel latency for local outboxes (tests, demos)
    worker_workflow_cache: int = 250  # workflows a worker keeps in memory (bounds its RSS)
    workflow_sandbox: bool = True  # Temporal's workflow sandbox (workflows/runner.py)
    log_level: str = "INFO"
    log_format: str = "json"  # json or console
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # the patient portal (issue 17): its own process, so the staff app never faces the internet
    portal_host: str = "127.0.0.1"
    portal_port: int = 8001
    #: the key (PEM, PKCS#8, unencrypted: mount it as a secret file) and certificate chain
    #: (PEM) that seal e-signed authorizations (PAdES); unset in local/test: a generated demo
    #: certificate, refused elsewhere (config/production.py)
    portal_signing_key_path: Path | None = None
    portal_signing_cert_path: Path | None = None
    # fulfillment (issue 7): email links, record source, carrier, batches
    public_base_url: str | None = None  # None: http://{web_host}:{web_port}; links point here
    # where an imaging release's link points (the study page on the portal, issue 18)
    portal_public_base_url: str | None = None  # None: http://{portal_host}:{portal_port}
    link_secret: str = "dev-only-change-me"  # signs download links; set a long random value
    link_ttl_days: int = 30
    smtp_host: str | None = None  # None: emails are written to the outbox instead
    smtp_port: int = 25
    smtp_tls: str = "none"  # none, starttls or ssl
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Release of Information <roi-noreply@hospital.example>"
    record_source: str = "folder"  # folder (demo, synthetic) or fhir
    records_dir: Path | None = None  # None: data_dir / "records"
    fhir_base_url: str | None = None
    fhir_token: str | None = None
    # imaging (issue 18): the archive's DICOMweb root (QIDO-RS, WADO-RS), e.g. Orthanc's
    # http://host:8042/dicom-web; None: no imaging source. Basic auth; the password never logged.
    dicomweb_url: str | None = None
    dicomweb_user: str | None = None
    dicomweb_password: SecretStr | None = None
    fedex_base_url: str = "http://127.0.0.1:8790"  # the fake carrier (python -m fakes.carrier)
    fedex_client_id: str = "demo-client"
    fedex_client_secret: str = "demo-secret"
    fedex_account_number: str = "000000000"
    fedex_tracking_hours: int = 6  # how often a shipment's tracking is read
    batch_enabled: bool = True  # mail, CD and FedEx wait for the site's daily batch
    batch_time: str = "15:00"  # local time of each site's batch run on business days
    quality_check: str = ""  # second-specialist check, e.g. "minnesota:third_party;arizona:*"

    # inbound documents (issue 19): the fax gateway's webhook, the ROI mailbox, OCR
    # HMAC-SHA256 key the fax gateway signs each delivery with; unset: the webhook is off
    # (local/test: a built-in demo key, refused elsewhere by config/production.py)
    inbound_fax_secret: str | None = None
    inbound_fax_sites: str = ""  # called number -> site: "5072840161=minnesota,..."
    inbound_imap_host: str | None = None  # None: no mailbox is polled
    inbound_imap_port: int = 993
    inbound_imap_tls: str = "ssl"  # ssl, starttls or none
    inbound_imap_username: str | None = None
    inbound_imap_password: str | None = None
    inbound_imap_folders: str = "INBOX=minnesota"  # folder=site, comma separated
    inbound_poll_seconds: int = 120
    inbound_ocr_languages: str = "eng+spa+ara"  # Tesseract languages (Debian tesseract-ocr-*)
    inbound_max_bytes: int = 25_000_000  # a larger fax or upload is refused (413)

    # deploy and operate (issue 9): metrics and traces; see deploy/RUNBOOK.md
    metrics_host: str = "127.0.0.1"  # address the worker's metrics ports bind (0.0.0.0 in pods)
    worker_metrics_port: int = 0  # worker: our counters (letters, deliveries); 0 = off
    temporal_metrics_port: int = 0  # worker: Temporal SDK metrics (Prometheus); 0 = off
    web_metrics: bool = True  # web app serves /metrics (read-model gauges; no PHI)
    metrics_token: str | None = None  # if set, /metrics needs "Authorization: Bearer <token>"
    otel_exporter: str = "none"  # traces: none, console or otlp (OTLP over HTTP)
    otel_endpoint: str | None = None  # OTLP traces URL; None: OTEL_EXPORTER_OTLP_* variables
    otel_service_name: str | None = None  # None: roi-worker / roi-web

    @property
    def outbox_path(self) -> Path:
        """Where local delivery channels write (letters, emails, print and ship jobs)."""
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def records_path(self) -> Path:
        """Where the local folder record source reads (synthetic demo records)."""
        return self.records_dir or self.data_dir / "records"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for position, item in enumerate(p.strip() for p in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(
                        f"entry {position + 1} is not an IP address or network (CIDR)"
                    ) from None
        return value

    @property
    def migration_url(self) -> str | None:
        """Where migrations run: the owner's URL, else the app's (a single-role install)."""
        return self.migration_database_url or self.database_url

    @property
    def base_url(self) -> str:
        """The staff app's public address, for links sent to requesters."""
        return (self.public_base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def portal_base_url(self) -> str:
        """The patient portal's public address, for the imaging study page's links."""
        fallback = f"http://{self.portal_host}:{self.portal_port}"
        return (self.portal_public_base_url or fallback).rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
