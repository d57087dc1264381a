"""Connecting to Temporal with the converter every part of the engine uses: the domain's pydantic
models, sealed by the payload codec (config/codec.py), over TLS/mTLS or with an API key when
configured."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from config import tracing
from config.codec import data_converter
from config.settings import Settings, get_settings
from domain.ids import workflow_id_for as workflow_id_for  # re-exported; defined in domain


def converter(settings: Settings | None = None) -> DataConverter:
    """The engine's data converter for these settings (payloads encrypted)."""
    return data_converter((settings or get_settings()).payload_keys)


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS to the Temporal frontend: off, the system's trust store, or the configured CA and
    client certificate (mTLS). An API key implies TLS, as Temporal Cloud requires."""
    files = (
        settings.temporal_tls_ca_path,
        settings.temporal_tls_cert_path,
        settings.temporal_tls_key_path,
    )
    if not any(files) and not settings.temporal_tls_server_name:
        return bool(settings.temporal_tls or settings.temporal_api_key)
    ca, cert, key = (path.read_bytes() if path else None for path in files)
    if (cert is None) != (key is None):
        raise ValueError("ROI_TEMPORAL_TLS_CERT_PATH and ROI_TEMPORAL_TLS_KEY_PATH go together")
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=settings.temporal_tls_server_name,
    )


async def connect(
    address: str,
    namespace: str = "default",
    runtime: Runtime | None = None,
    settings: Settings | None = None,
) -> Client:
    """A client that (de)serializes and encrypts the domain's models; it (and workers built on
    it) traces when tracing is on (config/tracing.py), and reports SDK metrics on `runtime`'s."""
    settings = settings or get_settings()
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=converter(settings),
        interceptors=tracing.client_interceptors(),
        runtime=runtime,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
    )
