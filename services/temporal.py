"""Connecting to Temporal with the converter every part of the engine uses."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from runtime import tracing


async def connect(
    address: str, namespace: str = "default", runtime: Runtime | None = None
) -> Client:
    """A client that (de)serializes the domain's pydantic models; it (and workers built on it)
    traces when tracing is on (runtime/tracing.py), and reports SDK metrics on `runtime`'s."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        interceptors=tracing.client_interceptors(),
        runtime=runtime,
    )


def workflow_id_for(request_id: str) -> str:
    """Opaque workflow id of a request (no PHI: a ULID)."""
    return f"roi-{request_id}"
