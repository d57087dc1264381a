"""Audit rows for what staff see and do outside the workflow: store/audit.py's `audit`, named
here for the routes that import it from the app."""

from __future__ import annotations

from store.audit import audit

__all__ = ["audit"]
