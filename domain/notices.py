"""What a notice (letter) says, as data: the contract between workflows and `letters/`.

Workflows build a `Notice`; `letters.render_notice` lays it out as a PDF in `language`.
Deficiencies travel as codes so each language's catalog words them itself.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.denial import DenialBasis
from domain.errors import FieldIssue
from domain.fees import FeeLine
from domain.types import DeliveryMethod, Language, Site


class NoticeKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    DEFICIENCY = "deficiency"
    FEE_QUOTE = "fee_quote"
    INVOICE = "invoice"
    EXTENSION = "extension"
    DENIAL = "denial"
    COMPLETION = "completion"
    PACKING_SLIP = "packing_slip"
    MAILING_LABEL = "mailing_label"
    CD_INSERT = "cd_insert"
    AUTHORIZATION_FORM = "authorization_form"
    CANCELLATION = "cancellation"
    # later request kinds (issue 6)
    AMENDMENT_ACCEPTED = "amendment_accepted"  # to the patient
    AMENDMENT_DENIED = "amendment_denied"  # basis, disagreement right, complaint routes
    AMENDMENT_NOTIFICATION = "amendment_notification"  # to a person who must be told
    REVOCATION_CONFIRMED = "revocation_confirmed"
    RELEASE_STOPPED = "release_stopped"  # a pending request stopped by a revocation
    PROXY_GRANTED = "proxy_granted"
    PROXY_DENIED = "proxy_denied"
    PROXY_ENDED = "proxy_ended"
    BILLING_ANSWER = "billing_answer"
    DECEASED_RECORDED = "deceased_recorded"
    ADOPTION_ACCEPTED = "adoption_accepted"
    ADOPTION_REJECTED = "adoption_rejected"  # lists the documents that would be accepted
    ACCOUNTING_FEE_NOTICE = "accounting_fee_notice"  # told in advance; may withdraw
    ACCOUNTING_REPORT = "accounting_report"
    OUTSIDE_RECORDS_REDIRECT = "outside_records_redirect"
    CUSTODIAN_CERTIFICATION = "custodian_certification"
    DENIAL_REVIEWED = "denial_reviewed"  # the reviewing professional's decision (164.524(d)(4))


class PaymentReceipt(BaseModel):
    """One payment received (the $45 FedEx fee): amount, date paid, reference."""

    amount_cents: int
    paid_on: date
    reference: str


class Notice(BaseModel):
    """Everything one letter needs; fields not used by a kind stay empty."""

    kind: NoticeKind
    language: Language = Language.EN
    site: Site
    tracking_number: str = ""
    issued_on: date
    recipient_name: str = ""
    recipient_address: list[str] = Field(default_factory=list)
    patient_name: str = ""
    patient_date_of_birth: date | None = None
    received_on: date | None = None
    expected_date: date | None = None
    deficiencies: list[FieldIssue] = Field(default_factory=list)
    fee_lines: list[FeeLine] = Field(default_factory=list)
    fee_total_cents: int = 0
    #: the requester type the site's third-party schedule priced the quote for (attorney,
    #: insurer...; empty: no third-party fee, the right of access's "never for search" applies)
    fee_requester_type: str = ""
    original_due_date: date | None = None
    new_due_date: date | None = None
    extension_reason: str = ""
    denial_basis: DenialBasis | None = None
    denial_explanation: str = ""
    released_items: list[str] = Field(default_factory=list)
    delivery_method: DeliveryMethod | None = None
    cancellation_reason: str = ""
    # later request kinds
    amendment_summary: str = ""
    amendment_denial_basis: str = ""  # an AmendmentDenialBasis value
    notified_names: list[str] = Field(default_factory=list)
    revoked_references: list[str] = Field(default_factory=list)
    #: revocation_confirmed: requests under the authorization already released before the
    #: revocation arrived (done in reliance; they stand), never listed as stopped
    released_references: list[str] = Field(default_factory=list)
    proxy_name: str = ""
    access_expires_on: date | None = None
    answer_text: str = ""
    document_name: str = ""
    rejection_reason: str = ""
    accepted_documents: list[str] = Field(default_factory=list)
    period_start: date | None = None
    period_end: date | None = None
    accounting_entries: list[dict[str, str]] = Field(default_factory=list)  # date, recipient, ...
    certified_pages: int | None = None
    review_decision: str = ""  # a ReviewDecision value (denial_reviewed)
    # contacts and receipts (issue 15): the team the letter speaks for (domain.contacts;
    # empty: the kind's team, else ROI), the FedEx tracking number and the payments received
    team: str = ""
    carrier_tracking_number: str = ""
    payments: list[PaymentReceipt] = Field(default_factory=list)
    #: packing slip: the statement 42 CFR 2.32 requires with a Part 2 disclosure (empty: none)
    part2_statement: str = ""
