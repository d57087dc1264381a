"""The clock tests skip months of simulated time: they get a time-skipping server of their own,
so nothing another module left on the shared server (a timer, a lock on time skipping) can
slow or stall their clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.infra import time_skipping_server


@pytest.fixture(scope="module")
async def registered_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per module, with the engine's search attributes."""
    async with time_skipping_server() as env:
        yield env
