"""Finding a request while someone is on the phone: by tracking number, patient name, date of
birth, MRN or requester, open or closed, within the sites and teams the account covers.

What was typed is read into one kind of query (`parse_query`), then answered from an index
(migration 0015): the tracking number's unique index (canonical form), upper(patient_mrn),
(patient_dob, received_at), and GIN indexes of the words of the patient's name, and of the
requester's and recipient's names, each word with all its prefixes (roi_search_words), so
"smi jo" is the exact tsquery 'smi' & 'jo' and finds "Jo Smith" and "Joanna Smithers" (no
stemming, no accent folding: core PostgreSQL only). The requester's organisation comes from
the submission's own index. Results are ordered by relevance (how many of the typed words are
whole words of the name: "Jo Smith" before "Joanna Smithers"), then received date (newest
first). Each match is read once, in one statement that also counts them.

Every search is an append-only `request_searches` row (`record_search`): who, when, the kind,
how many results, the ids shown and the query text. The text is PHI: it stays in that table
(inside the app's access control, for the privacy officer) and never reaches a log line, an
error message or a metric.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session

from store.models import RequestSearch
from store.tables import table_of

#: The GIN-indexed expressions of migration 0015, character for character (else no index):
#: each word of the name with every one of its prefixes (roi_search_words).
PATIENT_VECTOR = "roi_search_words(patient_name)"
REQUESTER_VECTOR = "roi_search_words(requester_name || ' ' || recipient_name)"
#: The submission's requester organisation, as indexed by migration 0015.
ORGANISATION_VECTOR = "roi_search_words(coalesce(payload #>> '{requester,organization}', ''))"

#: Shortest query searched: one character would match most of the table.
MIN_QUERY = 2
#: Longest query read (the audit column's width); longer input is refused, not cut.
MAX_QUERY = 200
#: At most this many words of a name are matched.
MAX_WORDS = 6

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Letters people read aloud for the digits they look like (Crockford's base 32).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TRACKING_SHAPE = re.compile(r"^(?:ROI[\s-]*)?[0-9A-Z]{5}[\s-]*[0-9A-Z]{5}$", re.IGNORECASE)
_MRN = re.compile(r"^[A-Za-z0-9-]{1,20}$")
_WORD = re.compile(r"[^\W_]+")


class SearchKind(StrEnum):
    """What the query was read as (recorded in the audit row)."""

    TRACKING = "tracking"
    NAME = "name"  # the patient's name
    DOB = "dob"
    MRN = "mrn"
    REQUESTER = "requester"  # the requester's or recipient's name, or the organisation


#: What the search form offers: "auto" reads the query's shape.
KIND_CHOICES: dict[str, str] = {
    "auto": "Anything",
    SearchKind.TRACKING: "Tracking number",
    SearchKind.NAME: "Patient name",
    SearchKind.DOB: "Date of birth",
    SearchKind.MRN: "MRN",
    SearchKind.REQUESTER: "Requester",
}


#: How a results page names what was searched ("3 requests found by date of birth").
SEARCHED_AS: dict[SearchKind, str] = {
    SearchKind.TRACKING: "tracking number",
    SearchKind.NAME: "patient name",
    SearchKind.DOB: "date of birth",
    SearchKind.MRN: "MRN",
    SearchKind.REQUESTER: "requester",
}


class QueryRefused(ValueError):
    """The query cannot be searched; `message` says why, for the search field (no input)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SearchQuery:
    """One kind of query with its normalised value (never logged: it is PHI)."""

    kind: SearchKind
    value: str | date  # canonical tracking number, upper-case MRN, a date, or a tsquery
    #: A name's typed words, lower case (relevance: whole words of the name count first).
    words: tuple[str, ...] = ()
    #: What to search instead when this finds nothing (a bare 10-character code is a tracking
    #: number without its dashes, or an MRN).
    fallback: SearchQuery | None = None


def _date(raw: str) -> date | None:
    """1984-03-07 or 03/07/1984 (month first, as staff in the US read it)."""
    iso, us = _ISO_DATE.match(raw), _US_DATE.match(raw)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if us:
            return date(int(us[3]), int(us[1]), int(us[2]))
    except ValueError:
        raise QueryRefused("That is not a real date: use 1984-03-07 or 03/07/1984.") from None
    return None


def canonical_tracking(raw: str) -> str | None:
    """ROI-XXXXX-XXXXX from any case, with or without dashes or spaces or the ROI prefix
    (O read as 0, I and L as 1); None when it cannot be a tracking number."""
    compact = "".join(c for c in raw.upper() if c.isalnum())
    if compact.startswith("ROI") and len(compact) == 13:
        compact = compact[3:]
    if len(compact) != 10:
        return None
    compact = compact.translate(_LOOKALIKES)
    if any(c not in _CROCKFORD for c in compact):
        return None
    return f"ROI-{compact[:5]}-{compact[5:]}"


def _names(kind: SearchKind, raw: str) -> SearchQuery:
    """'smi jo' -> "'smi' & 'jo'": every word required, each the start of a word of the name
    (the index holds every prefix of every word: an exact lexeme match is a prefix match)."""
    words = tuple(dict.fromkeys(w.lower() for w in _WORD.findall(raw)))[:MAX_WORDS]
    if not words:
        raise QueryRefused("Type a name: letters, at least two of them.")
    if max(len(w) for w in words) < MIN_QUERY:
        raise QueryRefused("Type at least two letters of one of the names.")
    return SearchQuery(kind, " & ".join(f"'{w}'" for w in words), words)


def parse_query(raw: str, kind: str = "auto") -> SearchQuery:
    """What the person typed, read as one kind of query (`kind` "auto": by its shape: a date,
    a tracking number, a single word with a digit (an MRN), else a patient's name)."""
    typed = " ".join(raw.split())
    if len(typed) < MIN_QUERY:
        raise QueryRefused(
            "Type at least two characters: a tracking number, a name, a date of birth or an MRN."
        )
    if len(typed) > MAX_QUERY:
        raise QueryRefused(f"Type at most {MAX_QUERY} characters.")
    if kind == "auto":
        born = _date(typed)
        if born is not None:
            return SearchQuery(SearchKind.DOB, born)
        found = canonical_tracking(typed) if _TRACKING_SHAPE.match(typed) else None
        digits = any(c.isdigit() for c in typed)
        mrn = SearchQuery(SearchKind.MRN, typed.upper()) if _MRN.match(typed) and digits else None
        if found and typed.upper().startswith("ROI"):
            return SearchQuery(SearchKind.TRACKING, found)
        if found and (digits or len(typed) > 10):  # "7K3QD-M2X9A", "7K3QDM2X9A", "Adams Brown"
            instead = mrn or _names(SearchKind.NAME, typed)
            return SearchQuery(SearchKind.TRACKING, found, fallback=instead)
        if mrn:
            return mrn
        return _names(SearchKind.NAME, typed)
    try:
        chosen = SearchKind(kind)
    except ValueError:
        raise QueryRefused("Choose what to search by.") from None
    if chosen == SearchKind.DOB:
        born = _date(typed)
        if born is None:
            raise QueryRefused("Type the date of birth as 1984-03-07 or 03/07/1984.")
        return SearchQuery(chosen, born)
    if chosen == SearchKind.TRACKING:
        found = canonical_tracking(typed)
        if found is None:
            raise QueryRefused("A tracking number looks like ROI-7K3QD-M2X9A.")
        return SearchQuery(chosen, found)
    if chosen == SearchKind.MRN:
        if not _MRN.match(typed):
            raise QueryRefused("An MRN has letters, digits and dashes only (20 at most).")
        return SearchQuery(chosen, typed.upper())
    return _names(chosen, typed)


@dataclass(frozen=True)
class SearchHit:
    """One request found (PHI: shown to staff who cover it, never logged)."""

    id: str
    tracking_number: str
    patient_name: str
    patient_dob: date
    requester_name: str
    site: str
    kind: str
    team: str
    status: str
    received_at: datetime
    due_at: datetime
    due_date: date
    closed_at: datetime | None
    breached: bool


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int  # every match the account may see, not only this page
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


_COLUMNS = (
    "r.id, r.tracking_number, r.patient_name, r.patient_dob, r.requester_name, r.site, "
    "r.kind, r.team, r.status, r.received_at, r.due_at, r.due_date, r.closed_at, r.breached"
)


def _where(query: SearchQuery) -> tuple[str, str, str, dict[str, Any]]:
    """What to read (`requests r`, or the requester matches joined to it), the condition
    answered from the query's index, and the relevance to order by first ("" for an exact
    value: every match is as relevant)."""
    params: dict[str, Any] = {"value": query.value}
    if query.kind == SearchKind.TRACKING:
        return "requests r", "r.tracking_number = :value", "", params
    if query.kind == SearchKind.MRN:
        return "requests r", "upper(r.patient_mrn) = :value", "", params
    if query.kind == SearchKind.DOB:
        return "requests r", "r.patient_dob = :value", "", params
    field = "r.patient_name" if query.kind == SearchKind.NAME else "r.requester_name"
    # a typed word that is a whole word of the name counts one (strpos: no regex, no tsvector)
    padded = f"(' ' || lower({field}) || ' ')"
    rank = " + ".join(f"(strpos({padded}, :word{i}) > 0)::int" for i in range(len(query.words)))
    rank = f"{rank} DESC, "
    params.update({f"word{i}": f" {w} " for i, w in enumerate(query.words)})
    if query.kind == SearchKind.NAME:
        return "requests r", f"{PATIENT_VECTOR} @@ to_tsquery('simple', :value)", rank, params
    names = f"SELECT id FROM requests WHERE {REQUESTER_VECTOR} @@ to_tsquery('simple', :value)"
    organisations = (
        "SELECT request_id FROM intake_submissions WHERE request_id IS NOT NULL "
        f"AND {ORGANISATION_VECTOR} @@ to_tsquery('simple', :value)"
    )
    joined = f"({names} UNION {organisations}) m JOIN requests r ON r.id = m.id"
    return joined, "true", rank, params


def _scoped(
    query: SearchQuery, teams: Collection[str], sites: Collection[str] | None
) -> tuple[str, str, str, dict[str, Any]]:
    source, where, rank, params = _where(query)
    where += " AND r.team = ANY(:teams)"
    params["teams"] = sorted(teams)
    if sites is not None:
        where += " AND r.site = ANY(:sites)"
        params["sites"] = sorted(sites)
    return source, where, rank, params


def search_requests(
    session: Session,
    query: SearchQuery,
    *,
    teams: Collection[str],
    sites: Collection[str] | None,
    page: int = 1,
    page_size: int = 50,
) -> SearchResults:
    """One page of the requests matching `query`, open or closed, of the given teams and sites
    (None: every site), by relevance then received date, newest first. One statement: every
    match is read once, counted, and the page's rows sorted out of them."""
    source, where, rank, params = _scoped(query, teams, sites)
    params["limit"], params["offset"] = page_size, (page - 1) * page_size
    sql = (
        f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM {source} WHERE {where} "
        f"ORDER BY {rank}r.received_at DESC, r.id LIMIT :limit OFFSET :offset"
    )
    rows = session.execute(text(sql), params).all()
    total = int(rows[0].total) if rows else 0
    if not rows and page > 1:  # past the last page: say how many there are
        total = count_requests(session, query, teams=teams, sites=sites)
    hits = [SearchHit(*row[:-1]) for row in rows]
    return SearchResults(hits, total, page, page_size)


def count_requests(
    session: Session,
    query: SearchQuery,
    *,
    teams: Collection[str],
    sites: Collection[str] | None,
) -> int:
    """How many requests match (within the teams and sites)."""
    source, where, _, params = _scoped(query, teams, sites)
    sql = f"SELECT count(*) FROM {source} WHERE {where}"
    return int(session.execute(text(sql), params).scalar_one())


def record_search(
    session: Session,
    *,
    actor: str,
    kind: str,
    query_text: str,
    results: int,
    page: int,
    request_ids: Sequence[str],
    client: str | None,
    at: datetime,
) -> None:
    """The search's audit row (append-only), in the caller's transaction. `kind` is a
    SearchKind, or "refused" for a query that could not be searched."""
    session.execute(
        insert(table_of(RequestSearch)).values(
            at=at,
            actor=actor,
            kind=kind,
            query=query_text[:MAX_QUERY],
            results=results,
            page=page,
            request_ids=list(request_ids) or None,
            client=client,
        )
    )


@dataclass(frozen=True)
class SearchRecord:
    """One audit row, as the privacy officer (or a test) reads it."""

    id: int
    at: datetime
    actor: str
    kind: str
    query: str
    results: int
    page: int
    request_ids: list[str] | None
    client: str | None


def searches_by(session: Session, actor: str, *, limit: int = 100) -> list[SearchRecord]:
    """An account's most recent searches, newest first."""
    rows = session.execute(
        text(
            "SELECT id, at, actor, kind, query, results, page, request_ids, client "
            "FROM request_searches WHERE actor = :actor ORDER BY id DESC LIMIT :limit"
        ),
        {"actor": actor, "limit": limit},
    ).all()
    return [SearchRecord(*row) for row in rows]
