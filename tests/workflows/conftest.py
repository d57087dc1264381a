"""The clock tests skip months of simulated time: they get a time-skipping server of their own,
so nothing another module left on the shared server (a timer, a lock on time skipping) can
slow or stall their clock."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
async def registered_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per module, with the engine's search attributes."""
    from runtime.search_attributes import ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()
