"""The fixes the chaos run led to, in small: a delivery blocked on a hung relay keeps
heartbeating (so Temporal never starts a second attempt that would send again), and the record
of a send waits out a database outage instead of failing the activity into a resend."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from temporalio.testing import ActivityEnvironment

from activities.heartbeat import keep_heartbeating
from activities.persist import persist_after_send


def test_a_send_blocked_on_a_hung_relay_keeps_heartbeating() -> None:
    beats: list[tuple] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)

    def hung_send() -> str:
        with keep_heartbeating(every=0.05):
            time.sleep(0.5)  # the relay answers late
        return "sent"

    assert env.run(hung_send) == "sent"
    assert len(beats) >= 5
    count = len(beats)
    time.sleep(0.2)
    assert len(beats) == count  # the beating stops with the send


def test_the_record_of_a_send_waits_for_the_database() -> None:
    attempts: list[int] = []

    def record() -> str:
        attempts.append(1)
        if len(attempts) < 3:  # PostgreSQL is down for the first two tries
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return "stored"

    assert persist_after_send(record) == "stored"
    assert len(attempts) == 3


def test_a_real_database_error_is_not_retried() -> None:
    def record() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        persist_after_send(record)
