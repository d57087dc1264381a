"""What each kind of notice must carry before it can be a correct letter.

A notice missing something its kind needs is refused with a `LetterError` naming the field
(never its value), so the workflow flags it to staff instead of mailing a broken letter.
"""

from __future__ import annotations

from domain.denial import ReviewDecision
from domain.kinds.amendment import AmendmentDenialBasis
from domain.notices import Notice, NoticeKind
from letters.errors import LetterError

#: Fields each kind cannot do without (beyond tracking number and issue date, always needed).
REQUIRED: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.ACKNOWLEDGEMENT: ("expected_date",),  # sent on receipt: issued_on if no received_on
    NoticeKind.DEFICIENCY: ("received_on", "deficiencies"),
    NoticeKind.FEE_QUOTE: ("fee_lines",),
    NoticeKind.INVOICE: ("fee_lines",),
    NoticeKind.EXTENSION: ("received_on", "original_due_date", "new_due_date", "extension_reason"),
    NoticeKind.DENIAL: ("received_on", "denial_basis"),
    NoticeKind.COMPLETION: ("released_items", "delivery_method"),
    NoticeKind.PACKING_SLIP: ("released_items", "recipient_address"),
    NoticeKind.MAILING_LABEL: ("recipient_name", "recipient_address"),
    NoticeKind.CD_INSERT: (),
    NoticeKind.AUTHORIZATION_FORM: (),
    NoticeKind.CANCELLATION: (),
    NoticeKind.AMENDMENT_ACCEPTED: ("amendment_summary",),
    NoticeKind.AMENDMENT_DENIED: ("amendment_denial_basis",),
    NoticeKind.AMENDMENT_NOTIFICATION: ("amendment_summary", "patient_name"),
    NoticeKind.REVOCATION_CONFIRMED: (),
    NoticeKind.RELEASE_STOPPED: (),
    NoticeKind.PROXY_GRANTED: ("proxy_name", "patient_name"),
    NoticeKind.PROXY_DENIED: ("patient_name",),
    NoticeKind.PROXY_ENDED: ("proxy_name", "patient_name"),
    NoticeKind.BILLING_ANSWER: ("answer_text",),
    NoticeKind.DECEASED_RECORDED: ("patient_name",),
    NoticeKind.ADOPTION_ACCEPTED: ("document_name",),
    NoticeKind.ADOPTION_REJECTED: ("rejection_reason", "accepted_documents"),
    NoticeKind.ACCOUNTING_FEE_NOTICE: ("fee_lines",),
    NoticeKind.ACCOUNTING_REPORT: ("patient_name", "period_start", "period_end"),
    NoticeKind.OUTSIDE_RECORDS_REDIRECT: (),
    NoticeKind.CUSTODIAN_CERTIFICATION: ("patient_name",),
    NoticeKind.DENIAL_REVIEWED: ("received_on", "denial_basis", "review_decision"),
}

_ENTRY_KEYS = ("date", "recipient", "description", "purpose")


def _empty(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == ()


def check_notice(notice: Notice) -> None:
    """Raise LetterError for the first thing that would make the letter wrong."""
    missing = [f for f in ("tracking_number", *REQUIRED[notice.kind]) if _empty(getattr(notice, f))]
    if missing:
        raise LetterError(f"{notice.kind.value} notice is missing {', '.join(missing)}")
    if notice.kind == NoticeKind.EXTENSION:
        assert notice.new_due_date and notice.original_due_date  # checked above
        if notice.new_due_date <= notice.original_due_date:
            raise LetterError("extension new_due_date must be after original_due_date")
        if notice.issued_on > notice.original_due_date:
            raise LetterError("extension notice must be issued before the original due date")
    if notice.kind == NoticeKind.AMENDMENT_DENIED:
        try:
            AmendmentDenialBasis(notice.amendment_denial_basis)
        except ValueError:
            raise LetterError("amendment_denial_basis is not a 164.526(a)(2) basis") from None
    if notice.kind == NoticeKind.DENIAL_REVIEWED:
        try:
            ReviewDecision(notice.review_decision)
        except ValueError:
            raise LetterError("review_decision is not uphold or reverse") from None
    if notice.kind == NoticeKind.ACCOUNTING_REPORT:
        for entry in notice.accounting_entries:
            if any(_empty(entry.get(key, "")) for key in _ENTRY_KEYS):
                raise LetterError(
                    "accounting entry is missing date, recipient, description or purpose"
                )
    if (
        notice.fee_lines
        and sum(line.amount_cents for line in notice.fee_lines) != notice.fee_total_cents
    ):
        raise LetterError("fee_total_cents does not equal the sum of fee_lines")
