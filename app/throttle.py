"""Throttles in PostgreSQL (shared by every web worker process), and who the client is.

Sign-ins, download links and status lookups are throttled by *admission*: before a password,
a link or a date of birth is checked, the attempt takes its place in its buckets (one row per
bucket in `throttle_buckets`, read and changed under a row lock in one transaction). Parallel
attempts are therefore counted one by one and at most the free allowance is ever checked; the
rest are refused unchecked.
There is no lockout: after `free` attempts each further one must wait 2^k seconds (capped), so
the real owner of an account can always sign in once the wait has passed, and a bucket is
forgotten after a quiet window. A success gives the attempt back (`succeeded`).

The intake API is limited per token to a number of requests per minute (`take`), and wrong
bearer tokens per client address (`blocked` before, `failed` after the check).

The client address is the connection's peer; X-Forwarded-For is believed only when the peer is
one of ROI_TRUSTED_PROXIES (default: none), and then only up to the first hop that is not.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from fastapi import Request
from sqlmodel import Session

from app.security import opaque
from store import throttle as buckets
from store.throttle import State

__all__ = [
    "Cleared",
    "Policy",
    "State",
    "admit",
    "blocked",
    "clear_login_delay",
    "client_address",
    "decide",
    "failed",
    "login_user_bucket",
    "served_over_tls",
    "succeeded",
    "take",
    "trusted_networks",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Policy:
    """`free` attempts, then each further one waits `base_seconds` * 2^k (at most
    `cap_seconds`); the count starts again after `window` without an attempt or a wait."""

    free: int
    window: timedelta
    base_seconds: float = 1.0
    cap_seconds: float = 900.0

    def delay(self, count: int) -> timedelta | None:
        """The wait after the `count`-th attempt (None while within the free allowance)."""
        if count < self.free:
            return None
        exponent = min(count - self.free, 30)
        return timedelta(seconds=min(self.base_seconds * 2**exponent, self.cap_seconds))


def decide(
    state: State, policy: Policy, now: datetime, *, counted_anyway: bool = False
) -> tuple[State | None, float]:
    """Admit one attempt: (the bucket's new state, 0) or, while it must wait, (None, seconds).
    With `counted_anyway` (a failure that happened) it is counted even during a wait."""
    waiting = state.blocked_until is not None and state.blocked_until > now
    if waiting and not counted_anyway:
        assert state.blocked_until is not None
        return None, (state.blocked_until - now).total_seconds()
    quiet_since = max(state.last_at, state.blocked_until or state.last_at)
    count, started = state.count, state.window_started_at
    if count and now - quiet_since >= policy.window:
        count, started = 0, now
    count += 1
    delay = policy.delay(count)
    until = now + delay if delay else None
    if waiting and (until is None or until < (state.blocked_until or now)):
        until = state.blocked_until
    return State(count, started, now, until), 0.0


def admit(session: Session, policies: dict[str, Policy], now: datetime) -> int | None:
    """Take one attempt in every bucket, atomically: None when admitted (each bucket counted),
    else the seconds to wait (no bucket counted). Commit before checking the secret."""
    states = buckets.locked(session, list(policies), now)
    decided = {b: decide(states[b], policy, now) for b, policy in policies.items()}
    waits = [wait for state, wait in decided.values() if state is None]
    if waits:
        return max(1, math.ceil(max(waits)))
    for bucket, (state, _) in decided.items():
        assert state is not None
        buckets.store(session, bucket, state)
    if now.second == 0:  # cheap, occasional housekeeping
        buckets.prune(session, now)
    return None


def succeeded(
    session: Session, *, forget: tuple[str, ...] = (), give_back: tuple[str, ...] = ()
) -> None:
    """After a success: forget the `forget` buckets (the account's), and give the attempt
    back to the `give_back` ones (a shared address keeps its allowance for failures)."""
    if forget:
        buckets.forget(session, forget)
    if give_back:
        buckets.give_back(session, give_back)


def blocked(session: Session, bucket: str, now: datetime) -> int | None:
    """Seconds this bucket must still wait, or None (a read; no attempt is taken)."""
    until = buckets.blocked_until(session, bucket)
    if until is None or until <= now:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def failed(session: Session, bucket: str, policy: Policy, now: datetime) -> None:
    """Count one failure in the bucket (under its row lock), starting its wait when due."""
    state, _ = decide(
        buckets.locked(session, [bucket], now)[bucket], policy, now, counted_anyway=True
    )
    assert state is not None
    buckets.store(session, bucket, state)
    if now.second == 0:  # cheap, occasional housekeeping
        buckets.prune(session, now)


def take(session: Session, bucket: str, limit: int, window: timedelta, now: datetime) -> int | None:
    """One request of at most `limit` per `window` (a fixed window, counted under the row
    lock): None when it may go ahead, else the seconds until the window ends."""
    state = buckets.locked(session, [bucket], now)[bucket]
    started, count = state.window_started_at, state.count
    if now - started >= window or now < started:
        started, count = now, 0
    if count >= limit:
        return max(1, math.ceil((started + window - now).total_seconds()))
    buckets.store(session, bucket, State(count + 1, started, now, None))
    return None


def login_user_bucket(username: str) -> str:
    """The sign-in bucket of a username (trimmed, lower-case, as accounts store it), named by
    an opaque label: a typed name is never stored."""
    return f"login:user:{opaque(username.strip().lower())}"


@dataclass(frozen=True)
class Cleared:
    """What a cleared bucket held: its failures, and whether a wait was running."""

    count: int
    waiting: bool


def clear_login_delay(session: Session, username: str, now: datetime | None = None) -> Cleared:
    """Forget the account's sign-in failures (an admin, after checking who is asking): its
    next attempt is checked at once. The per-address buckets are left as they are."""
    row = buckets.remove(session, login_user_bucket(username))
    if row is None:
        return Cleared(0, False)
    count, until = row
    return Cleared(count, until is not None and until > (now or datetime.now(UTC)))


# ---- who is asking ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """ROI_TRUSTED_PROXIES ("10.0.0.0/8, 192.0.2.7") parsed; ValueError names a bad entry's
    position, never its value."""
    networks: list[Network] = []
    for position, item in enumerate(p.strip() for p in spec.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"ROI_TRUSTED_PROXIES entry {position + 1} is not an address or network"
            ) from None
    return tuple(networks)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: str = "") -> str:
    """The client's address: the connection's peer, unless the peer is a trusted proxy; then
    the nearest X-Forwarded-For hop that is not itself a trusted proxy. X-Forwarded-For from
    anyone else is ignored (it would let a client choose its own throttle bucket)."""
    peer = request.client.host if request.client else "unknown"
    networks = trusted_networks(trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if _trusted(hop, networks):
            continue
        ip = _ip(hop)
        return str(ip) if ip is not None else peer  # garbage: count it as the proxy's own
    return peer


def served_over_tls(
    scheme: str, peer: str | None, forwarded_proto: list[str], trusted_proxies: str = ""
) -> bool:
    """Whether the browser reached us over TLS: the connection's own scheme is https, or the
    peer is one of ROI_TRUSTED_PROXIES and its X-Forwarded-Proto (the value it set, the last
    one) says https. X-Forwarded-Proto from anyone else is ignored."""
    if scheme == "https":
        return True
    networks = trusted_networks(trusted_proxies)
    if not networks or peer is None or not _trusted(peer, networks):
        return False
    values = [v.strip().lower() for header in forwarded_proto for v in header.split(",")]
    return bool(values) and values[-1] == "https"
