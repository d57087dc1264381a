"""Deterministic orchestration: one durable workflow per request."""
