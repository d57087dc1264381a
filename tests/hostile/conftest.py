"""Fixtures of the hostile-input tests: the web tests' own database, Temporal test server,
worker, staff accounts and app (the same fixtures, scoped to this package), plus an intake
client's bearer token."""

from __future__ import annotations

import os

import pytest

from app.accounts import create_api_token
from tests.web.conftest import (  # noqa: F401  (fixtures, registered by import)
    staff,
    web_app,
    web_db,
    web_env,
    web_settings,
    web_worker,
)

#: How many generated requests each fuzzing test sends: a short form in CI, long on demand
#: (`ROI_HOSTILE_EXAMPLES=5000 .venv/bin/pytest tests/hostile`, or `scripts/prove`).
EXAMPLES = int(os.environ.get("ROI_HOSTILE_EXAMPLES", "0") or 0)


def examples(short: int) -> int:
    """The CI count, or the long form's when ROI_HOSTILE_EXAMPLES is set."""
    return EXAMPLES or short


@pytest.fixture(scope="package")
def api_token(web_db: str) -> str:  # noqa: F811  (the fixture, imported above)
    """An intake client's token (the patient portal's, in production)."""
    return create_api_token(web_db, "hostile-input-client")
