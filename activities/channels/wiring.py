"""Build the channels and record source from settings (worker, CLI and tests share this)."""

from __future__ import annotations

from datetime import timedelta

from activities.channels.dispatch import Channels
from activities.channels.fedex import FedexClient
from activities.channels.mailer import Mailer
from activities.outbox import Outbox
from activities.sources.base import RecordSource
from activities.sources.dicomweb import DicomWebSource
from activities.sources.fhir import FhirSource
from activities.sources.folder import FolderSource
from config.settings import Settings
from domain.release_safety import parse_quality_policy


def build_source(settings: Settings) -> RecordSource:
    """FHIR R4 when configured, else the local folder (it holds only what was written to it)."""
    if settings.record_source == "fhir":
        if not settings.fhir_base_url:
            raise ValueError("ROI_RECORD_SOURCE=fhir needs ROI_FHIR_BASE_URL")
        return FhirSource(settings.fhir_base_url, token=settings.fhir_token)
    return FolderSource(settings.records_path)


def build_mailer(settings: Settings, outbox: Outbox) -> Mailer:
    return Mailer(
        outbox=outbox,
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=settings.smtp_password,
        sender=settings.mail_from,
    )


def build_channels(
    settings: Settings,
    database_url: str,
    outbox: Outbox,
    *,
    source: RecordSource | None = None,
) -> Channels:
    """Every channel, as configured."""
    return Channels(
        database_url,
        outbox,
        source or build_source(settings),
        build_mailer(settings, outbox),
        link_secret=settings.link_secret,
        base_url=settings.base_url,
        link_ttl=timedelta(days=settings.link_ttl_days),
        carrier=FedexClient(
            settings.fedex_base_url,
            settings.fedex_client_id,
            settings.fedex_client_secret,
            settings.fedex_account_number,
        ),
        batch_enabled=settings.batch_enabled,
        quality_policy=parse_quality_policy(settings.quality_check),
        imaging_source=DicomWebSource.from_settings(settings),  # None: imaging as documents
        portal_base_url=settings.portal_base_url,  # imaging links open the portal's study page
        records_on_portal=bool(settings.portal_public_base_url),  # other links its records page
    )
