"""The payload codec: what Temporal stores is ciphertext, keys rotate, tampering is caught."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from config.codec import (
    DEMO_KEY_ID,
    ENCODING,
    EncryptionCodec,
    PayloadKeyError,
    codec_from,
    data_converter,
    parse_keys,
)
from domain.request import RecordRequestSubmission
from tests import factories


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


PATIENT_NAME = "Marisol Quintanilla-Ferreira"


def _plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_sealed_payload_holds_no_plain_text_and_opens_again() -> None:
    codec = codec_from(f"k1:{_key()}")
    sealed = await codec.encode([_plain(PATIENT_NAME)])
    assert sealed[0].metadata["encoding"] == ENCODING
    assert sealed[0].metadata["encryption-key-id"] == b"k1"
    assert PATIENT_NAME.encode() not in sealed[0].SerializeToString()
    assert b"json/plain" not in sealed[0].SerializeToString()  # the inner metadata is sealed too
    opened = await codec.decode(sealed)
    assert opened[0].data == f'"{PATIENT_NAME}"'.encode()
    assert opened[0].metadata["encoding"] == b"json/plain"


async def test_same_value_sealed_twice_differs() -> None:
    codec = codec_from(f"k1:{_key()}")
    one, two = await codec.encode([_plain(PATIENT_NAME), _plain(PATIENT_NAME)])
    assert one.data != two.data  # a fresh nonce each time: equal values are not recognisable


async def test_rotation_new_key_seals_old_key_still_opens() -> None:
    old, new = _key(), _key()
    before = codec_from(f"old:{old}")
    sealed_before = await before.encode([_plain("x")])
    after = codec_from(f"new:{new},old:{old}")
    sealed_after = await after.encode([_plain("y")])
    assert sealed_after[0].metadata["encryption-key-id"] == b"new"
    assert [p.data for p in await after.decode(sealed_before + sealed_after)] == [b'"x"', b'"y"']
    with pytest.raises(PayloadKeyError, match="unknown key id 'new'"):
        await before.decode(sealed_after)


async def test_tampered_payload_or_swapped_key_id_is_refused() -> None:
    codec = codec_from(f"a:{_key()},b:{_key()}")
    sealed = (await codec.encode([_plain(PATIENT_NAME)]))[0]
    flipped = Payload(
        metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(InvalidTag):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"b"}, data=sealed.data)
    with pytest.raises(InvalidTag):
        await codec.decode([relabelled])


async def test_payloads_from_before_encryption_pass_through() -> None:
    """Histories written before the roll-out still replay."""
    codec = codec_from(None)
    assert (await codec.decode([_plain("old")]))[0].data == b'"old"'


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nokey", "entry 1: expected key-id:base64"),
        ("k1:not base64!", "'k1': not base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "'k1': must be 32 bytes"),
        ("k1:{0},k1:{0}", "'k1': listed twice"),
    ],
)
def test_malformed_keys_are_named_without_the_key(spec: str, message: str) -> None:
    spec = spec.format(_key())
    with pytest.raises(PayloadKeyError, match=message) as raised:
        parse_keys(spec)
    for part in spec.replace(",", ":").split(":")[1:]:
        if len(part) > 8:
            assert part not in str(raised.value)


def test_unset_keys_mean_the_demo_key() -> None:
    current, keys = parse_keys(None)
    assert current == DEMO_KEY_ID and list(keys) == [DEMO_KEY_ID]
    with pytest.raises(PayloadKeyError):
        EncryptionCodec("missing", keys)


async def test_converter_seals_a_whole_submission() -> None:
    """The converter the engine uses: a workflow input goes out without a readable field."""
    submission = RecordRequestSubmission.model_validate(factories.own_records())
    converter = data_converter(f"k:{_key()}")
    sealed = await converter.encode([submission])
    raw = sealed[0].SerializeToString()
    for value in ("Testpatient", "1984-03-09", "MRN-0000001", "100 Example Ave", "507-555-0142"):
        assert value.encode() not in raw, value
    (back,) = await converter.decode(sealed, [RecordRequestSubmission])
    assert back == submission
