"""Connecting to Temporal with the converter every part of the engine uses."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect(address: str, namespace: str = "default") -> Client:
    """A client that (de)serializes the domain's pydantic models."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


def workflow_id_for(request_id: str) -> str:
    """Opaque workflow id of a request (no PHI: a ULID)."""
    return f"roi-{request_id}"
