"""The demo's requests as a table: one row per request, and the staff steps that bring it to
the stage the demo shows it in.

To add a demo request, add a row at the end: a row's place is part of its idempotency key
(`demo-07-deficient-expired`), so rows never move. `ops/seed.py` turns each row into an intake
submission and its steps into staff actions; `tests/test_seed.py` checks that every row
reaches its `stage` with its `flags`. Everyone here is synthetic: the date of birth, MRN
(`DEMO0000NN`), street number and phone are made from the row's place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from domain.types import Channel, DeliveryMethod, Language, RequestKind, Site, Status

#: What staff do to a request, in order; each is applied only while the request is at the
#: stage it belongs to (ops/seed.py, STAGE_OF_STEP), so seeding twice does nothing twice.
Step = Literal[
    "verify",  # identity checked against a photo ID
    "pay",  # the quoted fee paid in full
    "complete",  # released and closed
    "extend",  # the legal due date moved once, to 55 days after receipt
    "deny",  # denied: the request named only psychotherapy notes
    "cancel",  # cancelled: the patient downloaded the records from the portal
    "deny-amendment",  # amendment denied: the record is accurate and complete
    "approve-proxy",  # proxy access granted, documents verified
]
#: Read-model flags a row expects to be set (every other one unset).
Flag = Literal["at_risk", "legal_risk", "breached", "extended"]


@dataclass(frozen=True)
class Relative:
    """Someone asking on the patient's behalf: the patient's last name, their own first name."""

    first_name: str
    relationship: str


@dataclass(frozen=True)
class Day:
    """A date this many days from the seed's clock (negative: before it), for fields that
    must stay current whenever the demo runs (a court order's date, a date of death)."""

    offset: int


@dataclass(frozen=True)
class Case:
    """One demo request."""

    name: str
    #: where it stands once seeded (a Status), as the tests see it with batching off (in the
    #: demo, released mail, CD and FedEx wait for the site's batch); None: never a request
    #: (outside records are answered at intake)
    stage: str | None
    kind: str  # RequestKind
    site: str  # Site
    received: float  # days before the seed's clock
    #: "First Last" of the patient; None for notices, whose `fields` name their own people
    patient: str | None = None
    born: str | None = None  # ISO date of birth; unset: made from the row's place
    language: str = "en"
    channel: str = "portal"  # Channel
    delivery: str = "email_link"  # DeliveryMethod, for record copies
    #: "self" (the patient), "insurer" (Northfield Insurance Co.) or a Relative
    requester: Literal["self", "insurer"] | Relative = "self"
    #: third_party only: fields changed on an otherwise valid 164.508 form (a defect)
    authorization: Mapping[str, object] = field(default_factory=dict)
    #: the kind's own fields, as the intake API takes them (Day for a date near the clock)
    fields: Mapping[str, object] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    flags: frozenset[Flag] = frozenset()

    def __post_init__(self) -> None:
        """A typo in a row fails at import with the row's name, not as a rejected request."""
        try:
            RequestKind(self.kind), Site(self.site), Channel(self.channel), Language(self.language)
            DeliveryMethod(self.delivery), self.stage is None or Status(self.stage)
        except ValueError as error:
            raise ValueError(f"demo case {self.name!r}: {error}") from None


ADOPTED_PARENT_ADDRESS = {"city": "Jacksonville", "state": "FL", "postal_code": "32224"}

CASES: tuple[Case, ...] = (
    # fresh requests in every site, language and channel
    Case("fresh-mn", "awaiting_verification", "access_own", "minnesota", 0.2, "Lena Brightwater"),
    Case(
        "fresh-az", "awaiting_verification", "access_own", "arizona", 1, "Omar Saltriver",
        language="ar", channel="email",
    ),
    Case(
        "fresh-fl", "awaiting_verification", "imaging", "florida", 2, "Rosa Palmetto",
        language="es", channel="mail", delivery="cd_mail",
    ),
    Case(
        "fresh-wi", "awaiting_verification", "access_own", "wisconsin", 3, "Hodan Lakeshore",
        language="so", channel="fax", delivery="us_mail",
    ),
    Case(
        "hmong", "awaiting_verification", "access_own", "minnesota", 4, "Pa Riverbend",
        language="hmn", channel="phone",
    ),
    # a third party's authorization with defects: a notice names each one
    Case(
        "deficient", "deficient", "third_party", "minnesota", 3, "Grant Oakhollow",
        delivery="us_mail", requester="insurer",
        authorization={"purpose": None, "statement_redisclosure": False},
    ),
    Case(
        "deficient-expired", "deficient", "third_party", "florida", 8, "Marisol Coastway",
        delivery="us_mail", requester="insurer", authorization={"expiration_date": "2025-01-31"},
    ),
    # fees: FedEx imaging, and a third party's copies on the site's schedule
    Case(
        "fedex-unpaid", "awaiting_payment", "imaging", "arizona", 2, "Dale Mesaview",
        delivery="fedex", steps=("verify",),
    ),
    Case(
        "fedex-paid", "ready_to_release", "imaging", "wisconsin", 5, "Ingrid Pinecrest",
        delivery="fedex", steps=("verify", "pay"),
    ),
    Case(
        "ready", "ready_to_release", "third_party", "minnesota", 6, "Victor Stonebridge",
        delivery="us_mail", requester="insurer", steps=("verify", "pay"),
    ),
    Case(
        "completed-email", "completed", "access_own", "minnesota", 5, "Nora Fieldstone",
        steps=("verify", "complete"),
    ),
    Case(
        "completed-mail", "completed", "third_party", "florida", 9, "Elias Harborview",
        delivery="us_mail", requester="insurer", steps=("verify", "pay", "complete"),
    ),
    # the clocks: past the 14-day target, near and past the 30-day legal due date, extended
    Case(
        "at-risk", "awaiting_verification", "access_own", "arizona", 16, "June Canyonridge",
        flags=frozenset({"at_risk"}),
    ),
    Case(
        "at-risk-wi", "awaiting_verification", "third_party", "wisconsin", 18, "Karl Birchwood",
        delivery="us_mail", requester="insurer", flags=frozenset({"at_risk"}),
    ),
    Case(
        "legal-risk", "awaiting_verification", "access_own", "minnesota", 28, "Amara Prairiefield",
        flags=frozenset({"at_risk", "legal_risk"}),
    ),
    Case(
        "breached", "awaiting_verification", "access_own", "florida", 35, "Louis Marshgate",
        delivery="us_mail", flags=frozenset({"at_risk", "legal_risk", "breached"}),
    ),
    Case(
        "extended", "awaiting_verification", "access_own", "minnesota", 20, "Tessa Willowmere",
        steps=("extend",), flags=frozenset({"at_risk", "extended"}),
    ),
    # closed without a release
    Case(
        "denied", "denied", "access_own", "wisconsin", 4, "Simon Quarrystone", steps=("deny",)
    ),
    Case(
        "cancelled", "cancelled", "access_own", "arizona", 2, "Mei Sunridge", steps=("cancel",)
    ),
    Case("imaging-link", "awaiting_verification", "imaging", "florida", 1, "Andre Bayside"),
    # the other kinds, each with its own team
    Case(
        "amendment", "under_review", "amendment", "florida", 12, "Greta Ironwood",
        fields={
            "record_description": "Medication list, visit of 2026-06-02",
            "requested_change": "Remove lisinopril; I never took it.",
            "reason": "It belongs to a different patient.",
        },
    ),
    Case(
        "amendment-denied", "awaiting_disagreement", "amendment", "minnesota", 20, "Hugo Ashdown",
        fields={
            "record_description": "Diagnosis on 2025-11-03",
            "requested_change": "Change the diagnosis",
            "reason": "I disagree",
        },
        steps=("deny-amendment",),
    ),
    Case("accounting", "under_review", "accounting", "arizona", 5, "Ines Copperfield"),
    Case(
        "billing", "under_review", "billing", "wisconsin", 2, "Jonas Elmstead",
        fields={"question": "Itemized statement for my August visit"},
    ),
    Case(
        "proxy", "active", "proxy_access", "minnesota", 1, "Kiri Maplewood", born="2016-04-12",
        requester=Relative("Lee", "parent"),
        fields={"basis": "parent_of_minor", "documents": [{"kind": "birth certificate"}]},
        steps=("approve-proxy",),
    ),
    Case(
        "deceased", "under_review", "deceased_notice", "wisconsin", 1, channel="email",
        fields={
            "patient": {
                "first_name": "Walter", "middle_name": "J", "last_name": "Hollowell",
                "date_of_birth": "1941-08-30", "date_of_death": Day(-6),
            },
            "reporter": {
                "first_name": "Ruth", "last_name": "Hollowell", "relationship": "daughter",
                "phone": "608-555-0117",
            },
        },
    ),
    Case(
        "adoption-rejected", "rejected", "adoption_notice", "florida", 2, channel="mail",
        fields={
            "patient": {
                "first_name": "Milo", "last_name": "Seagrove", "date_of_birth": "2022-01-05"
            },
            "parents": [
                {
                    "first_name": "Dana", "last_name": "Seagrove",
                    "contact": {"address": {"line1": "44 Example Ct", **ADOPTED_PARENT_ADDRESS}},
                }
            ],
            "document_type": "birth_certificate",  # not an adoption decree: rejected
            "pages_received": 1,
        },
    ),
    Case(
        "adoption", "under_review", "adoption_notice", "florida", 3, channel="mail",
        fields={
            "patient": {
                "first_name": "Nia", "last_name": "Coralline", "date_of_birth": "2021-09-15"
            },
            "parents": [
                {
                    "first_name": "Owen", "last_name": "Coralline",
                    "contact": {"address": {"line1": "45 Example Ct", **ADOPTED_PARENT_ADDRESS}},
                }
            ],
            "document_type": "adoption_decree",
            "pages_received": 6,
        },
    ),
    Case(
        "court-order", "awaiting_verification", "court_order", "minnesota", 4, "Paz Lindqvist",
        delivery="us_mail", requester="insurer",
        fields={
            "legal_document": {
                "court": "Olmsted County District Court",
                "case_number": "55-CV-26-881",
                "issued_on": Day(-10),
                "signed_by_judge": True,
            }
        },
    ),
    # not a request for us: answered with where to send them, never queued (no stage)
    Case(
        "outside-records", None, "outside_records", "arizona", 1, channel="fax",
        fields={"sender_name": "Desert Valley Imaging"},
    ),
)  # fmt: skip
