"""What the imaging archive holds for a request, shown on the request page before release.

Staff see the studies, series and images a release would send (the archive's own counts, from
one QIDO-RS study search by MRN in the request's dates) without waiting for the release: asked
live, with a short timeout, so a slow archive never holds the page up. The release counts and
checks every instance again (activities.channels.imaging); these are what the archive says now.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from activities.sources.dicomweb import DicomWebSource, ImagingSourceError
from config.settings import Settings
from domain.imaging import ImagingCounts
from domain.request import RecordRequestSubmission
from domain.types import RequestKind

log = structlog.get_logger(__name__)

#: seconds the request page waits for the archive
TIMEOUT = 5.0


@dataclass
class ArchiveCounts:
    """The counts, or why there are none (plain words for staff; never PHI)."""

    counts: ImagingCounts | None = None
    problem: str | None = None


def archive_counts(
    settings: Settings, sub: RecordRequestSubmission | None, request_id: str
) -> ArchiveCounts | None:
    """The archive's counts for an imaging request's patient and dates; None when the request
    is not imaging or no archive is configured (imaging is then released as documents)."""
    if sub is None or sub.kind != RequestKind.IMAGING or not settings.dicomweb_url:
        return None
    if not sub.patient.mrn:
        return ArchiveCounts(problem="The request has no MRN: the archive is searched by MRN.")
    source = DicomWebSource(
        settings.dicomweb_url,
        user=settings.dicomweb_user,
        password=settings.dicomweb_password,
        timeout=TIMEOUT,
        retry=False,  # the page waits at most TIMEOUT
    )
    try:
        studies = source.find_studies(sub.patient.mrn, sub.records.date_from, sub.records.date_to)
    except (ImagingSourceError, OSError) as error:
        log.warning("imaging.counts_failed", request_id=request_id, error=type(error).__name__)
        return ArchiveCounts(
            problem="The imaging archive did not answer, so the counts cannot be shown now. "
            "The release checks the archive again when it runs."
        )
    return ArchiveCounts(
        counts=ImagingCounts(
            studies=len(studies),
            series=sum(s.series_count for s in studies),
            instances=sum(s.instance_count for s in studies),
        )
    )
