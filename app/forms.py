"""Staff actions as HTML forms: which actions a request kind offers, and how a submitted form
becomes the domain action the workflow's Update takes.

A form that cannot become an action (an empty reason, a bad amount) is refused here with the
same field-issue shape the workflow's validators use, so both kinds of refusal appear next to
the field they concern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from app import plain
from domain import actions
from domain import denial as denial_policy
from domain.authorization import (
    AuthorityDocument,
    Authorization,
    CombinedDocument,
    SignerRole,
    validate_authorization,
)
from domain.denial import DenialBasis
from domain.errors import FieldIssue, issue
from domain.kinds.amendment import AmendmentDenialBasis
from domain.release_safety import QualityCheck, SensitiveReview
from domain.types import (
    IN_DELIVERY_STATUSES,
    RECORD_COPY_KINDS,
    TERMINAL_STATUSES,
    DeliveryMethod,
    RequestKind,
)
from services.staff import UpdateMethod
from workflows.case_base import CaseWorkflow
from workflows.cases import (
    AccountingWorkflow,
    AmendmentWorkflow,
    BillingWorkflow,
    DataIntegrityWorkflow,
    ProxyAccessWorkflow,
)
from workflows.record_request import RecordRequestWorkflow

Form = dict[str, Any]  # field name -> str, or list[str] for repeated fields


class FormProblem(Exception):
    """The form cannot be turned into an action; `issues` name the fields."""

    def __init__(self, issues: list[FieldIssue]) -> None:
        super().__init__(issues[0].message if issues else "invalid form")
        self.issues = issues


def _text(form: Form, name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    value = (value or "").strip()
    return value or None


def _flag(form: Form, name: str) -> bool:
    return _text(form, name) in ("on", "true", "1", "yes")


def _many(form: Form, name: str) -> list[str]:
    value = form.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if v and v.strip()]


def _model(model: type[BaseModel], **values: Any) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise FormProblem(plain.from_validation_error(error)) from None


def _date(form: Form, name: str) -> date | None:
    raw = _text(form, name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormProblem([issue(name, "not_a_date", "Use a date like 2026-12-31.")]) from None


# ---- deficiency reasons (from the 164.508 rules themselves) ---------------------------------


def deficiency_catalogue() -> list[FieldIssue]:
    """Every deficiency domain.authorization can name, once each, in the form's order."""
    probes = [
        Authorization(),
        Authorization(signer_role=SignerRole.OTHER_REPRESENTATIVE),
        Authorization(
            expiration_date=date(2000, 1, 1),
            expiration_event="probe",
            expiration_event_occurred=True,
            known_revoked=True,
            known_false_information=True,
            combined_with=[CombinedDocument.TREATMENT_CONSENT],
        ),
        Authorization(
            covers_psychotherapy_notes=True, combined_with=[CombinedDocument.AUTHORIZATION]
        ),
    ]
    seen: dict[str, FieldIssue] = {}
    for probe in probes:
        for found in validate_authorization(probe, date(2026, 1, 1)):
            seen.setdefault(found.code, found)
    return list(seen.values())


DEFICIENCIES = {d.code: d for d in deficiency_catalogue()}


# ---- builders -----------------------------------------------------------------------------


def _verify(form: Form, actor: str) -> Any:
    return _model(
        actions.VerifyIdentity,
        actor=actor,
        method=_text(form, "method"),
        authority_confirmed=_flag(form, "authority_confirmed"),
        authority_document=_text(form, "authority_document") or None,
        note=_text(form, "note"),
    )


def _confirm_authority(form: Form, actor: str) -> Any:
    return _model(
        actions.ConfirmAuthority,
        actor=actor,
        authority_document=_text(form, "authority_document"),
        note=_text(form, "note"),
    )


def _mark_deficient(form: Form, actor: str) -> Any:
    chosen = [DEFICIENCIES[c] for c in _many(form, "deficiency") if c in DEFICIENCIES]
    other = _text(form, "other")
    if other:
        chosen.append(issue("authorization", "specialist_finding", other))
    if not chosen:
        raise FormProblem(
            [issue("deficiency", "missing", "Choose at least one reason, or describe one.")]
        )
    return _model(actions.MarkDeficient, actor=actor, deficiencies=chosen)


AUTH_TEXT = (
    "information_description",
    "disclosing_party",
    "recipient",
    "purpose",
    "expiration_event",
    "representative_authority",
)
AUTH_FLAGS = (
    "expiration_event_occurred",
    "signed",
    "statement_right_to_revoke",
    "statement_conditioning",
    "statement_redisclosure",
    "known_revoked",
    "known_false_information",
    "covers_psychotherapy_notes",
)


def _correct_authorization(form: Form, actor: str) -> Any:
    values: dict[str, Any] = {k: _text(form, f"authorization.{k}") for k in AUTH_TEXT}
    values.update({k: _flag(form, f"authorization.{k}") for k in AUTH_FLAGS})
    values["expiration_date"] = _date(form, "authorization.expiration_date")
    values["signature_date"] = _date(form, "authorization.signature_date")
    values["signer_role"] = _text(form, "authorization.signer_role") or SignerRole.PATIENT.value
    values["form_language"] = _text(form, "authorization.form_language") or "en"
    docs = _text(form, "authorization.authority_documents")
    values["authority_documents"] = [d.strip() for d in (docs or "").split("\n") if d.strip()]
    values["combined_with"] = _many(form, "authorization.combined_with")
    try:
        auth = Authorization.model_validate(values)
    except ValidationError as error:
        raise FormProblem(plain.from_validation_error(error, prefix="authorization.")) from None
    return actions.CorrectAuthorization(actor=actor, authorization=auth)


def _record_payment(form: Form, actor: str) -> Any:
    raw = (_text(form, "amount") or "").replace("$", "").replace(",", "")
    try:
        amount = Decimal(raw)
        if amount != amount.quantize(Decimal("0.01")) or amount < 0:
            raise InvalidOperation
    except InvalidOperation:
        raise FormProblem([issue("amount", "not_money", "Give an amount like 45.00.")]) from None
    return _model(
        actions.RecordPayment,
        actor=actor,
        amount_cents=int(amount * 100),
        reference=_text(form, "reference"),
    )


def _simple(model: type[BaseModel], *names: str) -> Callable[[Form, str], Any]:
    def build(form: Form, actor: str) -> Any:
        return _model(model, actor=actor, **{n: _text(form, n) for n in names})

    return build


def _extend(form: Form, actor: str) -> Any:
    return _model(
        actions.Extend,
        actor=actor,
        new_due_date=_date(form, "new_due_date"),
        reason=_text(form, "reason"),
    )


def _proxy_decide(form: Form, actor: str) -> Any:
    return _model(
        actions.ProxyDecision,
        actor=actor,
        approve=_text(form, "decision") == "approve",
        documents_verified=_flag(form, "documents_verified"),
        reason=_text(form, "reason"),
    )


def _confirm(form: Form, actor: str) -> Any:
    return _model(
        actions.ConfirmUpdate,
        actor=actor,
        complete_copy=_flag(form, "complete_copy"),
        note=_text(form, "note"),
    )


def _fee_response(form: Form, actor: str) -> Any:
    return _model(
        actions.FeeResponse,
        actor=actor,
        accept=_text(form, "decision") == "accept",
        payment_reference=_text(form, "payment_reference"),
    )


def _quality(form: Form, actor: str) -> Any:
    return _model(
        QualityCheck,
        actor=actor,
        right_patient_on_every_page=_flag(form, "right_patient_on_every_page"),
        right_recipient=_flag(form, "right_recipient"),
        in_scope=_flag(form, "in_scope"),
        note=_text(form, "note"),
    )


def _assign_reviewer(form: Form, actor: str) -> Any:
    return _model(
        actions.AssignReviewer,
        actor=actor,
        reviewer=_text(form, "reviewer"),
        licensed_professional=_flag(form, "licensed_professional"),
    )


@dataclass(frozen=True)
class ActionSpec:
    name: str  # URL segment and form id
    label: str
    build: Callable[[Form, str], Any]
    kinds: frozenset[str]
    update: UpdateMethod | None = None  # the Update to send (None: by the action's type)
    fields: tuple[str, ...] = ()  # form fields (issues on other fields show at the form's top)
    aliases: dict[str, str] = field(default_factory=dict)  # action field -> form field
    hidden_when: frozenset[str] = frozenset()  # statuses in which the form is not offered

    def place(self, found: FieldIssue) -> str:
        """The form field an issue belongs next to ("" for the form as a whole)."""
        name = self.aliases.get(found.field, found.field)
        if name in self.fields:
            return name
        for candidate in self.fields:  # authorization.x, requester.contact.email ...
            if name.startswith(candidate + ".") or candidate.startswith(name + "."):
                return candidate
        return ""


RECORD = frozenset(k.value for k in RECORD_COPY_KINDS)
CASES = frozenset(k.value for k in RequestKind) - RECORD - {RequestKind.OUTSIDE_RECORDS.value}
ALL = RECORD | CASES

SPECS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "verify",
        "Verify identity and authority",
        _verify,
        RECORD,
        fields=("method", "authority_confirmed", "authority_document", "note"),
    ),
    ActionSpec(
        "confirm_authority",
        "Confirm the representative's authority",
        _confirm_authority,
        RECORD,
        fields=("authority_document", "note"),
    ),
    ActionSpec(
        "complete",
        "Release (complete)",
        _simple(actions.Complete, "note"),
        RECORD,
        fields=("note",),
    ),
    ActionSpec(
        "mark_deficient",
        "Mark authorization deficient",
        _mark_deficient,
        RECORD,
        fields=("deficiency", "other"),
    ),
    ActionSpec(
        "correct_authorization",
        "Record a corrected authorization",
        _correct_authorization,
        RECORD,
        fields=(
            *tuple(
                f"authorization.{k}"
                for k in (
                    *AUTH_TEXT,
                    *AUTH_FLAGS,
                    "expiration_date",
                    "signature_date",
                    "signer_role",
                    "authority_documents",
                    "combined_with",
                    "form_language",
                )
            ),
            "authorization",
        ),
    ),
    ActionSpec(
        "record_payment",
        "Record payment",
        _record_payment,
        RECORD,
        fields=("amount", "reference"),
        aliases={"amount_cents": "amount"},
    ),
    ActionSpec(
        "choose_delivery",
        "Delivery method",
        _simple(actions.ChooseDelivery, "method"),
        RECORD,
        fields=("method",),
    ),
    ActionSpec(
        "extend",
        "Extend the legal due date (once)",
        _extend,
        ALL,
        fields=("new_due_date", "reason"),
    ),
    ActionSpec(
        "deny",
        "Deny",
        _simple(actions.Deny, "basis", "explanation", "professional"),
        RECORD,
        fields=("basis", "explanation", "professional"),
    ),
    # ---- review of a denial on a reviewable ground (164.524(a)(4)) --------------------------
    ActionSpec(
        "request_review",
        "The patient asks for a review of the denial",
        _simple(actions.RequestDenialReview, "note"),
        RECORD,
        update=RecordRequestWorkflow.request_review,
        fields=("note",),
    ),
    ActionSpec(
        "assign_reviewer",
        "Assign the reviewing professional",
        _assign_reviewer,
        RECORD,
        update=RecordRequestWorkflow.assign_reviewer,
        fields=("reviewer", "licensed_professional"),
    ),
    ActionSpec(
        "decide_review",
        "Record the reviewer's decision",
        _simple(actions.DecideReview, "decision", "explanation"),
        RECORD,
        update=RecordRequestWorkflow.decide_review,
        fields=("decision", "explanation"),
    ),
    ActionSpec(
        "cancel",
        "Cancel (requester withdrew)",
        _simple(actions.Cancel, "reason"),
        ALL,
        fields=("reason",),
    ),
    ActionSpec("add_note", "Add a note", _simple(actions.AddNote, "text"), ALL, fields=("text",)),
    # ---- a release held by a safety check (offered only for the hold's reason) --------------
    ActionSpec(
        "review_sensitive",
        "Sensitive information reviewed",
        _simple(SensitiveReview, "note"),
        RECORD,
        update=RecordRequestWorkflow.review_sensitive,
        fields=("note",),
    ),
    ActionSpec(
        "confirm_quality",
        "Confirm the packet (second specialist)",
        _quality,
        RECORD,
        update=RecordRequestWorkflow.confirm_quality,
        fields=("right_patient_on_every_page", "right_recipient", "in_scope", "note"),
    ),
    ActionSpec(
        "confirm_format",
        "Copy produced in the agreed format",
        _simple(actions.ConfirmFormat, "note"),
        RECORD,
        update=RecordRequestWorkflow.confirm_format,
        fields=("note",),
    ),
    # ---- case workflows (by Update name) -----------------------------------------------
    ActionSpec(
        "amendment_accept",
        "Accept the amendment",
        _simple(actions.AcceptAmendment, "amendment_text"),
        frozenset({"amendment"}),
        update=AmendmentWorkflow.accept,
        fields=("amendment_text",),
    ),
    ActionSpec(
        "amendment_deny",
        "Deny the amendment",
        _simple(actions.DenyAmendment, "basis", "explanation"),
        frozenset({"amendment"}),
        update=AmendmentWorkflow.deny,
        fields=("basis", "explanation"),
    ),
    ActionSpec(
        "amendment_disagreement",
        "File the patient's statement of disagreement",
        _simple(actions.FileStatement, "text"),
        frozenset({"amendment"}),
        update=AmendmentWorkflow.file_disagreement,
        fields=("text",),
    ),
    ActionSpec(
        "amendment_rebuttal",
        "File the hospital's rebuttal (closes the request)",
        _simple(actions.FileStatement, "text"),
        frozenset({"amendment"}),
        update=AmendmentWorkflow.file_rebuttal,
        fields=("text",),
    ),
    ActionSpec(
        "proxy_decide",
        "Decide proxy access",
        _proxy_decide,
        frozenset({"proxy_access"}),
        update=ProxyAccessWorkflow.decide,
        fields=("decision", "documents_verified", "reason"),
    ),
    ActionSpec(
        "proxy_revoke",
        "Revoke proxy access",
        _simple(actions.Cancel, "reason"),
        frozenset({"proxy_access"}),
        update=ProxyAccessWorkflow.revoke,
        fields=("reason",),
    ),
    ActionSpec(
        "billing_answer",
        "Answer",
        _simple(actions.Answer, "text"),
        frozenset({"billing"}),
        update=BillingWorkflow.answer,
        fields=("text",),
    ),
    ActionSpec(
        "integrity_confirm",
        "Confirm the record update",
        _confirm,
        frozenset({"deceased_notice", "adoption_notice"}),
        update=DataIntegrityWorkflow.confirm,
        fields=("complete_copy", "note"),
    ),
    ActionSpec(
        "accounting_fee",
        "Requester's answer to the fee",
        _fee_response,
        frozenset({"accounting"}),
        update=AccountingWorkflow.respond_to_fee,
        fields=("decision", "payment_reference"),
    ),
    ActionSpec(
        "accounting_complete",
        "Send the accounting",
        _simple(actions.Complete, "note"),
        frozenset({"accounting"}),
        update=AccountingWorkflow.complete,
        fields=("note",),
    ),
)
BY_NAME = {s.name: s for s in SPECS}
#: The case workflows' shared updates (the same names as the records workflow's).
CASE_UPDATES: dict[str, UpdateMethod] = {
    "extend": CaseWorkflow.extend,
    "cancel": CaseWorkflow.cancel,
    "add_note": CaseWorkflow.add_note,
}


#: Actions that answer a held release, and the hold reason each answers.
HOLD_ACTIONS = {
    "review_sensitive": "sensitive_review_required",
    "confirm_quality": "quality_check_required",
    "confirm_format": "other_format_to_produce",
}


def specs_for(kind: str, status: str, hold_codes: frozenset[str] = frozenset()) -> list[ActionSpec]:
    """The actions a request of this kind offers in this stage (none once closed); the answers
    to a held release only while it is held for that reason."""
    if status in TERMINAL_STATUSES:
        return []  # the workflow has finished: nothing can be sent to it
    if status in IN_DELIVERY_STATUSES:  # on its way out: only a note is still taken
        return [s for s in SPECS if s.name == "add_note" and kind in s.kinds]
    return [
        s
        for s in SPECS
        if kind in s.kinds
        and status not in s.hidden_when
        and (s.name not in HOLD_ACTIONS or HOLD_ACTIONS[s.name] in hold_codes)
    ]


def update_for(spec: ActionSpec, kind: str) -> UpdateMethod | None:
    """The Update to send: None lets services.staff pick the records workflow's by type."""
    if kind in RECORD:
        return spec.update  # None: picked by the action's type
    return spec.update or CASE_UPDATES.get(spec.name)


# ---- choices for the templates --------------------------------------------------------------

#: The documents staff may confirm as a representative's authority (164.502(g)); the
#: workflow judges the choice against the accepted list for the signer's relationship.
AUTHORITY_DOCUMENTS = [(d.value, d.value.replace("_", " ")) for d in AuthorityDocument]
IDENTITY_METHODS = [
    (m.value, m.value.replace("_", " ").capitalize()) for m in actions.IdentityMethod
]
DELIVERY_METHODS = [(m.value, m.value.replace("_", " ")) for m in DeliveryMethod]
DENIAL_BASES = [(b.value, b.value.replace("_", " ")) for b in DenialBasis]
REVIEW_DECISION_DAYS = denial_policy.REVIEW_DECISION_DAYS
AMENDMENT_DENIAL_BASES = [(b.value, b.value.replace("_", " ")) for b in AmendmentDenialBasis]
SIGNER_ROLES = [(r.value, r.value.replace("_", " ")) for r in SignerRole]
COMBINED = [(c.value, c.value.replace("_", " ")) for c in CombinedDocument]
