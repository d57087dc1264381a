"""Temporal payload encryption: every workflow input, result, Update and activity payload is
sealed with AES-256-GCM before it leaves the process, so Temporal's database and Web UI hold
ciphertext only. Patient data stays inside the app's access control; the staff app's
`/codec/decode` (app/routes/codec.py) opens payloads for signed-in supervisors, and audits it.

Keys come from ROI_PAYLOAD_KEYS ("key-id:base64-of-32-bytes,…"): the first encrypts, every one
decrypts, so a key can be rotated by putting the new one first and dropping the old one once no
running workflow's history needs it. The key id travels in each payload's metadata (and is
authenticated as associated data), never the key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12

#: The demo's and tests' key (ROI_PAYLOAD_KEYS unset). config/production.py refuses it outside
#: ROI_ENV=local/test. Public on purpose: it protects nothing but synthetic records.
DEMO_KEY_ID = "demo"
DEMO_KEY = b"roi-demo-payload-key-not-secret!"  # 32 bytes


class PayloadKeyError(ValueError):
    """ROI_PAYLOAD_KEYS is malformed (the message names the entry, never a key)."""


def parse_keys(spec: str | None) -> tuple[str, dict[str, bytes]]:
    """(current key id, every key by id) from "id:base64,…"; the demo key when unset."""
    if not spec or not spec.strip():
        return DEMO_KEY_ID, {DEMO_KEY_ID: DEMO_KEY}
    keys: dict[str, bytes] = {}
    current = ""
    for position, entry in enumerate(spec.split(","), start=1):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not key_id:
            raise PayloadKeyError(f"ROI_PAYLOAD_KEYS entry {position}: expected key-id:base64")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise PayloadKeyError(f"ROI_PAYLOAD_KEYS key {key_id!r}: not base64") from None
        if len(key) != 32:
            raise PayloadKeyError(f"ROI_PAYLOAD_KEYS key {key_id!r}: must be 32 bytes (AES-256)")
        if key_id in keys:
            raise PayloadKeyError(f"ROI_PAYLOAD_KEYS key {key_id!r}: listed twice")
        keys[key_id] = key
        current = current or key_id
    return current, keys


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole serialized payload (its metadata too)."""

    def __init__(self, current_key_id: str, keys: Mapping[str, bytes]) -> None:
        if current_key_id not in keys:
            raise PayloadKeyError(f"no key for the current key id {current_key_id!r}")
        self.current_key_id = current_key_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal each payload with the current key and a fresh nonce."""
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open sealed payloads; a payload written before encryption was on passes through, so
        requests started before the roll-out still replay."""
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"payload sealed with unknown key id {key_id!r}")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))


def codec_from(spec: str | None) -> EncryptionCodec:
    """The codec for a ROI_PAYLOAD_KEYS value."""
    return EncryptionCodec(*parse_keys(spec))


@lru_cache(maxsize=8)
def data_converter(spec: str | None) -> DataConverter:
    """The converter every client, worker, replayer and test uses: the domain's pydantic models,
    sealed by the codec; failures' messages and stack traces are sealed too (they can quote
    a value)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec_from(spec),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


#: What a sealed blob starts with (a format version), before the nonce.
BLOB_VERSION = b"\x01"


def seal_blob(spec: str | None, data: bytes, context: str) -> tuple[str, bytes]:
    """(key id, version + nonce + AES-256-GCM ciphertext) of a file kept at rest, with the
    current ROI_PAYLOAD_KEYS key; `context` (e.g. the row's id) is bound as associated data so
    a blob cannot be moved to another row."""
    key_id, keys = parse_keys(spec)
    nonce = os.urandom(NONCE_BYTES)
    aad = f"{key_id}:{context}".encode()
    return key_id, BLOB_VERSION + nonce + AESGCM(keys[key_id]).encrypt(nonce, data, aad)


def open_blob(spec: str | None, key_id: str, blob: bytes, context: str) -> bytes:
    """The plaintext of a blob sealed by `seal_blob` (any configured key opens its own)."""
    _current, keys = parse_keys(spec)
    key = keys.get(key_id)
    if key is None:
        raise PayloadKeyError(f"blob sealed with unknown key id {key_id!r}")
    if blob[:1] != BLOB_VERSION:
        raise PayloadKeyError("blob of an unknown format")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    return AESGCM(key).decrypt(nonce, sealed, f"{key_id}:{context}".encode())
