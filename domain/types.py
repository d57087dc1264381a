"""Vocabulary of the release-of-information work: kinds, channels, sites, stages.

Every enum here is stored by value in PostgreSQL and Temporal search attributes, so values
are stable strings; add members, never rename them.
"""

from __future__ import annotations

from enum import StrEnum


class RequestKind(StrEnum):
    """What the person is asking for (DOMAIN.md "Request kinds")."""

    ACCESS_OWN = "access_own"  # copy of own records, 164.524 right of access
    THIRD_PARTY = "third_party"  # release on a signed 164.508 authorization
    IMAGING = "imaging"  # images by cloud link, encrypted CD or FedEx
    AMENDMENT = "amendment"  # 164.526
    REVOCATION = "revocation"  # 164.508(b)(5)
    PROXY_ACCESS = "proxy_access"  # parent of a minor or legal representative
    BILLING = "billing"
    DECEASED_NOTICE = "deceased_notice"  # to HIMS Data Integrity
    ADOPTION_NOTICE = "adoption_notice"  # to HIMS Data Integrity
    OUTSIDE_RECORDS = "outside_records"  # not an ROI request: redirected to the care team
    ACCOUNTING = "accounting"  # accounting of disclosures, 164.528
    CONTINUITY_OF_CARE = "continuity_of_care"  # another provider, for treatment (164.506)
    SSA_DISABILITY = "ssa_disability"  # Social Security disability (DDS) on the SSA-827
    SUBPOENA = "subpoena"  # 164.512(e): needs authorization or satisfactory assurances
    COURT_ORDER = "court_order"  # 164.512(e): the order itself suffices


#: Kinds the records-copy workflow (RecordRequestWorkflow) fulfils.
RECORD_COPY_KINDS: frozenset[RequestKind] = frozenset(
    {
        RequestKind.ACCESS_OWN,
        RequestKind.THIRD_PARTY,
        RequestKind.IMAGING,
        RequestKind.CONTINUITY_OF_CARE,
        RequestKind.SSA_DISABILITY,
        RequestKind.SUBPOENA,
        RequestKind.COURT_ORDER,
    }
)


class Channel(StrEnum):
    """How the request first reached the hospital."""

    PORTAL = "portal"
    EMAIL = "email"
    FAX = "fax"
    MAIL = "mail"
    PHONE = "phone"


class DeliveryMethod(StrEnum):
    """How released records leave the hospital."""

    EMAIL_LINK = "email_link"  # secure download link by email (also the imaging cloud link)
    US_MAIL = "us_mail"  # paper copies by US mail
    CD_MAIL = "cd_mail"  # encrypted CD by US mail (free)
    FEDEX = "fedex"  # FedEx two business days, $45 flat


class Site(StrEnum):
    """Hospital sites; each has its own time zone, hours and holidays (see domain.sites)."""

    ARIZONA = "arizona"
    FLORIDA = "florida"
    MINNESOTA = "minnesota"
    WISCONSIN = "wisconsin"


class Language(StrEnum):
    """Languages the authorization form and every letter exist in."""

    EN = "en"
    ES = "es"
    AR = "ar"
    SO = "so"
    HMN = "hmn"


class Status(StrEnum):
    """Stage of a request in its workflow; mirrored into the read model and search attributes."""

    RECEIVED = "received"
    DEFICIENT = "deficient"  # authorization defective: waiting for a corrected form
    AWAITING_VERIFICATION = "awaiting_verification"  # identity/authority check by a specialist
    AWAITING_PAYMENT = "awaiting_payment"  # a fee was quoted and is unpaid
    READY_TO_RELEASE = "ready_to_release"  # verified and paid: a specialist completes it
    FULFILLING = "fulfilling"  # delivery under way
    QUEUED_FOR_BATCH = "queued_for_batch"  # approved; the site's next mail/CD/FedEx batch sends it
    COMPLETED = "completed"
    DENIED = "denied"
    CANCELLED = "cancelled"
    UNDER_REVIEW = "under_review"  # with the owning team (amendment, data integrity, billing)
    AWAITING_REQUESTER = "awaiting_requester"  # e.g. deciding whether to accept a quoted fee
    NOTIFYING = "notifying"  # accepted amendment: telling the people who must know
    AWAITING_DISAGREEMENT = "awaiting_disagreement"  # denied amendment: statement may be filed
    ACTIVE = "active"  # proxy access granted, until it expires or is revoked
    EXPIRED = "expired"  # proxy access ended
    REJECTED = "rejected"  # e.g. an adoption document that cannot be accepted
    #: a denial on a reviewable ground (164.524(a)(3)) being reviewed, at the patient's request,
    #: by another licensed health care professional; the legal clock was met by the denial
    DENIAL_REVIEW = "denial_review"


TERMINAL_STATUSES: frozenset[Status] = frozenset(
    {Status.COMPLETED, Status.DENIED, Status.CANCELLED, Status.EXPIRED, Status.REJECTED}
)

#: Stages where the hospital is waiting on the requester, not on its own staff.
WAITING_ON_REQUESTER: frozenset[Status] = frozenset({Status.DEFICIENT, Status.AWAITING_PAYMENT})

#: In delivery: the hospital's part is done, the request has left the working queue.
IN_DELIVERY_STATUSES: frozenset[Status] = frozenset({Status.FULFILLING, Status.QUEUED_FOR_BATCH})

#: The hospital's part is over: closed, or on its way out (the request page shows no live clock
#: and offers no release).
FINISHED_FOR_STAFF: frozenset[Status] = TERMINAL_STATUSES | IN_DELIVERY_STATUSES

#: Stages in which a request waits for the hospital's own staff ("next request" takes these).
#: A tuple: its order is part of a partial index's predicate (store.models).
ACTIONABLE_STATUSES: tuple[Status, ...] = (
    Status.RECEIVED,
    Status.AWAITING_VERIFICATION,
    Status.READY_TO_RELEASE,
    Status.UNDER_REVIEW,
)

#: Closed as the requester sees it on the public status page: ended, or proxy access granted
#: and in force.
CLOSED_FOR_REQUESTER: frozenset[Status] = TERMINAL_STATUSES | {Status.ACTIVE}


class DisclosureCategory(StrEnum):
    """Why information left; drives the accounting-of-disclosures filter (164.528)."""

    PATIENT_ACCESS = "patient_access"  # to the patient, or a person they direct under 164.524
    AUTHORIZATION = "authorization"  # under a signed 164.508 authorization
    TREATMENT = "treatment"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    COURT_ORDER = "court_order"
    SUBPOENA = "subpoena"
    PUBLIC_HEALTH = "public_health"
    LAW_ENFORCEMENT = "law_enforcement"
    HEALTH_OVERSIGHT = "health_oversight"
    ABUSE_REPORTING = "abuse_reporting"
    CORONER_OR_FUNERAL = "coroner_or_funeral"
    RESEARCH_WAIVER = "research_waiver"  # research under an IRB waiver, not an authorization
    WORKERS_COMPENSATION = "workers_compensation"
    INVOLVED_IN_CARE = "involved_in_care"
    FACILITY_DIRECTORY = "facility_directory"
    NATIONAL_SECURITY = "national_security"
    CORRECTIONAL = "correctional"
    LIMITED_DATA_SET = "limited_data_set"
    INCIDENTAL = "incidental"


class SlaEvent(StrEnum):
    """Clock events a request's workflow records as simulated or real time passes."""

    REMINDER = "reminder"  # before the site target (day 10)
    TARGET_MISSED = "target_missed"  # site target (14 days) passed: at risk, supervisor told
    LEGAL_RISK = "legal_risk"  # a few business days before the legal due date
    BREACH = "breach"  # legal due date passed without completion or a valid extension
