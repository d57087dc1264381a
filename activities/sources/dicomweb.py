"""Imaging studies from a DICOMweb archive (Orthanc, or any PACS with QIDO-RS and WADO-RS).

`find_studies` asks QIDO-RS for one patient's studies by Patient ID (the MRN) in a date range;
`instance_headers` reads every instance's identity from WADO-RS metadata (no pixels), so the
release rules (`domain.imaging`) can check and count a study before any image moves;
`retrieve_study` streams a study's instances over WADO-RS to disk one at a time, never the
whole study in memory (memory is bounded by the largest single instance).

QIDO-RS is GET only (DICOM PS3.18), so the Patient ID travels in the query string: only the
MRN, never a name or birth date, and over the archive's own connection. Errors are raised
without the URL (a requests error names it, query and all), and the HTTP libraries' debug
lines that print URLs are kept quiet. Configuration: ROI_DICOMWEB_URL, ROI_DICOMWEB_USER and
ROI_DICOMWEB_PASSWORD (the password is a secret and never logged).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydantic import BaseModel, Field, SecretStr
from pydicom import dcmread
from pydicom.dataset import Dataset

from config.settings import Settings
from domain.imaging import InstanceHeader

#: Uncompressed Explicit VR Little Endian: what an IHE PDI general-purpose CD holds
#: (STD-GEN-CD), so the archive transcodes anything it stored compressed.
EXPLICIT_LITTLE = "1.2.840.10008.1.2.1"
#: QIDO-RS attributes of a study summary (tags, as every server understands them).
STUDY_FIELDS = [
    "00080020",  # StudyDate
    "00080061",  # ModalitiesInStudy
    "00081030",  # StudyDescription
    "00100020",  # PatientID
    "0020000D",  # StudyInstanceUID
    "00201206",  # NumberOfStudyRelatedSeries
    "00201208",  # NumberOfStudyRelatedInstances
]
#: characters QIDO-RS reads as wildcards or value separators in a matching key
WILDCARDS = frozenset("*?\\")
#: loggers that print request URLs (and so the Patient ID) at debug level
_URL_LOGGERS = ("dicomweb_client", "urllib3.connectionpool")


class ImagingSourceError(RuntimeError):
    """The archive could not answer (the message names the step and status, never a URL)."""


class StudySummary(BaseModel):
    """One study as QIDO-RS describes it (the UID identifies it: not logged)."""

    study_uid: str
    study_date: date | None = None
    modalities: list[str] = Field(default_factory=list)
    description: str = ""
    series_count: int = 0
    instance_count: int = 0


def _quiet_url_logs() -> None:
    """Keep request-URL debug lines out of the logs even at ROI_LOG_LEVEL=DEBUG."""
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def _value(item: dict[str, Any], tag: str) -> Any:
    """The first value of a DICOM JSON attribute (None when absent or empty)."""
    values = item.get(tag, {}).get("Value") or []
    return values[0] if values else None


def _text(item: dict[str, Any], tag: str) -> str:
    value = _value(item, tag)
    if isinstance(value, dict):  # PN: {"Alphabetic": "FAMILY^GIVEN", ...}
        groups = [value.get(k, "") for k in ("Alphabetic", "Ideographic", "Phonetic")]
        return "=".join(groups).rstrip("=")
    return "" if value is None else str(value)


def _day(value: str) -> date | None:
    digits = value.strip().replace(".", "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if digits else None
    except ValueError:
        return None


def _date_range(start: date | None, end: date | None) -> str | None:
    """A QIDO-RS DA range: YYYYMMDD-YYYYMMDD, open on either side."""
    if start is None and end is None:
        return None
    return "-".join(d.strftime("%Y%m%d") if d else "" for d in (start, end))


def header_of(ds: Dataset) -> InstanceHeader:
    """The identity attributes of a dataset read with pydicom (headers only is enough)."""
    return InstanceHeader(
        study_uid=str(ds.get("StudyInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        instance_uid=str(ds.get("SOPInstanceUID", "")),
        patient_name=str(ds.get("PatientName", "") or ""),
        patient_id=str(ds.get("PatientID", "") or ""),
        birth_date=str(ds.get("PatientBirthDate", "") or ""),
    )


def headers_of_files(files: list[Path]) -> list[InstanceHeader]:
    """Each file's identity, read header by header (pixels never loaded)."""
    return [header_of(dcmread(path, stop_before_pixels=True)) for path in files]


class DicomWebSource:
    """Reads one DICOMweb archive with basic-auth credentials."""

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: SecretStr | str | None = None,
        timeout: float = 60.0,
        chunk_size: int = 1 << 20,
        retry: bool = True,
    ) -> None:
        """`retry=False` for a caller that must answer quickly (a page): dicomweb_client
        otherwise retries a failed request 5 times with backoff (some 30 s when it is down)."""
        _quiet_url_logs()
        session = requests.Session()
        if user is not None:
            secret = password.get_secret_value() if isinstance(password, SecretStr) else password
            session.auth = (user, secret or "")
        self._client = DICOMwebClient(
            url=base_url.rstrip("/"), session=session, chunk_size=chunk_size, timeout=timeout
        )
        if not retry:
            self._client.set_http_retry_params(retry=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> DicomWebSource | None:
        """The configured archive (ROI_DICOMWEB_*), or None when there is none."""
        if not settings.dicomweb_url:
            return None
        return cls(
            settings.dicomweb_url,
            user=settings.dicomweb_user,
            password=settings.dicomweb_password,
        )

    def find_studies(
        self, patient_id: str, start: date | None = None, end: date | None = None
    ) -> list[StudySummary]:
        """The patient's studies whose Study Date falls in [start, end] (either may be open),
        oldest first. Only exact Patient ID matches are kept, whatever the archive matched."""
        wanted = patient_id.strip()
        if not wanted or WILDCARDS & set(wanted):
            # an empty key or a wildcard would match other patients' studies
            raise ValueError("a Patient ID with no wildcard characters is required")
        filters: dict[str, str] = {"PatientID": wanted}
        if (dates := _date_range(start, end)) is not None:
            filters["StudyDate"] = dates
        try:
            found = self._client.search_for_studies(
                search_filters=filters, fields=STUDY_FIELDS, get_remaining=True
            )
        except requests.RequestException as error:
            raise _failure("study search", error) from None
        studies = [
            StudySummary(
                study_uid=_text(item, "0020000D"),
                study_date=_day(_text(item, "00080020")),
                modalities=[str(m) for m in item.get("00080061", {}).get("Value") or []],
                description=_text(item, "00081030"),
                series_count=int(_value(item, "00201206") or 0),
                instance_count=int(_value(item, "00201208") or 0),
            )
            for item in found
            if _text(item, "00100020") == wanted and _text(item, "0020000D")
        ]
        return sorted(studies, key=lambda s: (s.study_date or date.min, s.study_uid))

    def _instances_by_series(self, study_uid: str) -> dict[str, list[str]]:
        """Series UID -> instance UIDs of everything filed under the study UID, whichever
        patient it is filed under (so an instance of another patient is seen and checked)."""
        found = self._client.search_for_instances(
            study_instance_uid=study_uid,
            fields=["0020000E", "00080018"],
            get_remaining=True,
        )
        series: dict[str, list[str]] = {}
        for item in found:
            uid = _text(item, "00080018")
            listed = series.setdefault(_text(item, "0020000E"), [])
            if uid and uid not in listed:
                listed.append(uid)
        return series

    def instance_headers(self, study_uid: str) -> list[InstanceHeader]:
        """Every instance's identity from WADO-RS metadata: checked before the pixels move.

        Series by series; a series the archive cannot serve whole (Orthanc answers 404 when
        one UID is filed under two Patient IDs) instance by instance."""
        items: list[dict[str, Any]] = []
        try:
            for series_uid, instances in self._instances_by_series(study_uid).items():
                try:
                    items += self._client.retrieve_series_metadata(study_uid, series_uid)
                except requests.HTTPError as error:
                    if not _not_found(error):
                        raise
                    items += [
                        self._client.retrieve_instance_metadata(study_uid, series_uid, uid)
                        for uid in instances
                    ]
        except requests.RequestException as error:
            raise _failure("study metadata", error) from None
        return [
            InstanceHeader(
                study_uid=_text(item, "0020000D") or study_uid,
                series_uid=_text(item, "0020000E"),
                instance_uid=_text(item, "00080018"),
                patient_name=_text(item, "00100010"),
                patient_id=_text(item, "00100020"),
                birth_date=_text(item, "00100030"),
            )
            for item in items
        ]

    def retrieve_study(self, study_uid: str, dest_folder: Path) -> list[Path]:
        """Every instance filed under the study UID, written to `dest_folder` as it arrives
        (numbered files, so no identifier is in a file name); the files in the order received.

        Series by series over WADO-RS, streamed: one instance in memory at a time. A series
        the archive cannot serve whole comes instance by instance."""
        dest_folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []

        def save(ds: Dataset) -> None:
            path = dest_folder / f"IM{len(written) + 1:06d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            written.append(path)

        media = (("application/dicom", EXPLICIT_LITTLE),)
        try:
            for series_uid, instances in self._instances_by_series(study_uid).items():
                before = len(written)
                try:
                    for ds in self._client.iter_series(study_uid, series_uid, media_types=media):
                        save(ds)
                        del ds  # one instance in memory at a time
                except requests.HTTPError as error:
                    if not _not_found(error) or len(written) != before:
                        raise
                    for uid in instances:
                        save(
                            self._client.retrieve_instance(
                                study_uid, series_uid, uid, media_types=media
                            )
                        )
        except requests.RequestException as error:
            raise _failure("study retrieval", error) from None
        return written


def _not_found(error: requests.HTTPError) -> bool:
    return error.response is not None and error.response.status_code == 404


def _failure(step: str, error: requests.RequestException) -> ImagingSourceError:
    """An error naming the step and HTTP status only (the request's URL holds the Patient ID)."""
    response = getattr(error, "response", None)
    status = f"HTTP {response.status_code}" if response is not None else type(error).__name__
    return ImagingSourceError(f"DICOMweb {step} failed: {status}")
