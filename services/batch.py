"""A site's batch from the staff side: what its next run would send (`roi batch preview` and
the supervisors' batch page), and starting a run now (`roi batch run` and the same page both
call services.schedule.start_batch_now)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain.batch import next_run, parse_batch_time
from domain.types import Site
from store import requests
from store.batch import queued_items


@dataclass(frozen=True)
class QueuedLine:
    """One delivery waiting for the run (references only: no names, no addresses)."""

    request_id: str
    tracking_number: str  # the request id when the request row is missing
    method: str
    queued_at: datetime


@dataclass(frozen=True)
class SitePreview:
    site: Site
    next_run: datetime  # in the site's time zone
    items: list[QueuedLine]


def preview(
    session: Session, sites: Iterable[Site], now: datetime, batch_time: str
) -> list[SitePreview]:
    """What the next run of each site would take, oldest first (in the caller's
    transaction: the batch page's, or the CLI's)."""
    at = parse_batch_time(batch_time)
    found = []
    for site in sites:
        items = queued_items(session, site.value)
        tracking = requests.tracking_numbers(session, [i.request_id for i in items])
        lines = [
            QueuedLine(
                request_id=i.request_id,
                tracking_number=tracking.get(i.request_id, i.request_id),
                method=i.method,
                queued_at=i.queued_at,
            )
            for i in items
        ]
        found.append(SitePreview(site, next_run(site, now, at), lines))
    return found
