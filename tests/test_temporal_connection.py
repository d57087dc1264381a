"""How the engine connects to Temporal: TLS, mTLS and an API key from settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from config.settings import Settings
from services.temporal import tls_config


def test_plain_by_default_tls_on_request_and_with_an_api_key() -> None:
    assert tls_config(Settings(env="test")) is False
    assert tls_config(Settings(env="test", temporal_tls=True)) is True
    assert tls_config(Settings(env="test", temporal_api_key="k")) is True  # Cloud needs TLS


def test_mtls_reads_the_ca_and_the_client_pair(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(f"-----{name}-----".encode())
    config = tls_config(
        Settings(
            env="test",
            temporal_tls_ca_path=tmp_path / "ca.pem",
            temporal_tls_cert_path=tmp_path / "client.pem",
            temporal_tls_key_path=tmp_path / "client.key",
            temporal_tls_server_name="temporal.hospital.internal",
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == b"-----ca.pem-----"
    assert config.client_cert == b"-----client.pem-----"
    assert config.client_private_key == b"-----client.key-----"
    assert config.domain == "temporal.hospital.internal"


def test_a_client_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "client.pem").write_bytes(b"cert")
    with pytest.raises(ValueError, match="go together"):
        tls_config(Settings(env="test", temporal_tls_cert_path=tmp_path / "client.pem"))
