"""The third-party authorization form (164.508) as the domain sees it: each element of
164.508(c) is a field of its own, and the three required statements are shown as text the
signer acknowledges, so a submitted authorization is never deficient for a missing element.

Psychotherapy notes and substance use disorder (42 CFR Part 2) records are not offered here:
each needs its own form (the page says where to get it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.authorization import SignerRole
from domain.types import Language, Site
from portal.forms import N_

#: Who signs (a value of domain.authorization.SignerRole) and how the form says it.
SIGNERS: tuple[tuple[str, str], ...] = (
    (SignerRole.PATIENT.value, N_("I am the patient")),
    (SignerRole.PARENT_OF_MINOR.value, N_("I am the parent of a patient under 18")),
    (SignerRole.LEGAL_GUARDIAN.value, N_("I am the patient's legal guardian")),
    (SignerRole.HEALTH_CARE_AGENT.value, N_("I am the patient's health care agent")),
    (SignerRole.EXECUTOR.value, N_("I am the executor of the patient's estate")),
    (SignerRole.ADMINISTRATOR.value, N_("I am the administrator of the patient's estate")),
)
#: The documents that may prove a representative's authority (domain.authorization
#: ACCEPTED_AUTHORITY); a financial power of attorney is not one of them.
AUTHORITY_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("birth_certificate", N_("Birth certificate of the child")),
    ("custody_order", N_("Custody order")),
    ("letters_of_guardianship", N_("Letters of guardianship")),
    ("letters_of_conservatorship", N_("Letters of conservatorship")),
    ("health_care_power_of_attorney", N_("Health care power of attorney")),
    ("health_care_directive", N_("Health care directive naming me as agent")),
    ("letters_testamentary", N_("Letters testamentary")),
    ("letters_of_administration", N_("Letters of administration")),
)
DELIVERIES: tuple[tuple[str, str, str], ...] = (
    ("email_link", N_("Secure link by email"), N_("Sent to the recipient's email address.")),
    ("us_mail", N_("Paper copies by US mail"), N_("Mailed to the recipient's address.")),
)

#: The required statements (164.508(c)(2)), shown in full; the signer checks each.
STATEMENT_REVOKE = N_(
    "You may revoke (cancel) this authorization at any time, in writing: send a signed letter "
    "to the Release of Information office, or use the revocation form. A revocation does not "
    "undo what was already released while this authorization was in effect."
)
STATEMENT_CONDITIONING = N_(
    "The hospital will not make your treatment, payment, enrollment in a health plan or "
    "eligibility for benefits depend on whether you sign this authorization."
)
STATEMENT_REDISCLOSURE = N_(
    "Once the information is released, the recipient may share it again, and it may no longer "
    "be protected by federal privacy law (HIPAA)."
)
ACKNOWLEDGE = N_("I have read this statement.")
#: The disclosure before consenting to sign electronically (ESIGN Act, 15 U.S.C. 7001(c); UETA).
ESIGN_DISCLOSURE = N_(
    "You may sign this authorization electronically. Your electronic signature has the same "
    "effect as a signature on paper. To sign, you need this page and an email account. We "
    "record your typed name, your drawing if you make one, the time, the email address you "
    "prove with a code, and the address of your connection, and we seal the signed form so any "
    "change shows. You may instead sign on paper: call the Release of Information office for a "
    "paper form, or ask for a paper copy of what you sign. You may withdraw this consent before "
    "you send the form."
)
ESIGN_AGREE = N_("I agree to sign electronically and to receive the code by email.")
NOT_ON_THIS_FORM = N_(
    "This form does not cover psychotherapy notes or records of a substance use disorder "
    "program (42 CFR Part 2). Each needs its own form: call the Release of Information office "
    "to get it."
)
#: Who may disclose (164.508(c)(1)(ii)): the hospital location, as staff read it (English).
DISCLOSER = "{site} hospital, Health Information Management (Release of Information)"


def _clean(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _some(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def relationship_of(signer: str) -> str:
    """The requester's relationship for the signer (the signer is the requester)."""
    if signer == SignerRole.PATIENT.value:
        return "self"
    if signer == SignerRole.PARENT_OF_MINOR.value:
        return "parent"
    return "legal_representative"


def payload(form: Mapping[str, str], language: Language, signed_on: date) -> dict[str, Any]:
    """The submission the domain validates: a third-party request whose authorization carries
    every element typed on the form (what was left empty stays empty, and the domain names it).
    `signed_on` is the site's date when the signer types their name and sends it."""
    signer = _clean(form, "signer") or SignerRole.PATIENT.value
    first, last = _clean(form, "patient_first_name"), _clean(form, "patient_last_name")
    representative = signer != SignerRole.PATIENT.value
    requester_first = _clean(form, "requester_first_name") if representative else first
    requester_last = _clean(form, "requester_last_name") if representative else last
    site = _clean(form, "site")
    try:
        discloser: str | None = DISCLOSER.format(site=Site(site or "").value.capitalize())
    except ValueError:
        discloser = None
    recipient_address = _some(
        {
            "line1": _clean(form, "recipient_address_line1"),
            "city": _clean(form, "recipient_address_city"),
            "state": _clean(form, "recipient_address_state"),
            "postal_code": _clean(form, "recipient_address_postal_code"),
        }
    )
    recipient_name = _clean(form, "recipient_name")
    document = _clean(form, "authority_document")
    signed = _clean(form, "signature_name") is not None
    authorization = _some(
        {
            "form_language": language.value,
            "information_description": _clean(form, "records_description"),
            "disclosing_party": discloser,
            "recipient": recipient_name,
            "purpose": _clean(form, "purpose"),
            "expiration_date": _clean(form, "expiration_date"),
            "expiration_event": _clean(form, "expiration_event"),
            "signed": signed,
            "signature_date": signed_on.isoformat() if signed else None,
            "signer_role": signer,
            "representative_authority": _clean(form, "representative_authority")
            if representative
            else None,
            "authority_documents": [document] if representative and document else None,
            "statement_right_to_revoke": form.get("ack_revoke") == "yes",
            "statement_conditioning": form.get("ack_conditioning") == "yes",
            "statement_redisclosure": form.get("ack_redisclosure") == "yes",
        }
    )
    return _some(
        {
            "kind": "third_party",
            "site": site,
            "channel": "portal",
            "language": language.value,
            "patient": _some(
                {
                    "first_name": first,
                    "middle_name": _clean(form, "patient_middle_name"),
                    "last_name": last,
                    "date_of_birth": _clean(form, "patient_dob"),
                    "mrn": _clean(form, "patient_mrn"),
                }
            ),
            "requester": _some(
                {
                    "first_name": requester_first,
                    "last_name": requester_last,
                    "relationship": relationship_of(signer),
                    "contact": _some(
                        {
                            "email": _clean(form, "signer_email"),
                            "phone": _clean(form, "phone"),
                        }
                    ),
                }
            ),
            "recipient": _some(
                {
                    "name": recipient_name,
                    "contact": _some(
                        {
                            "email": _clean(form, "recipient_email"),
                            "address": recipient_address or None,
                        }
                    ),
                }
            )
            if recipient_name or recipient_address or _clean(form, "recipient_email")
            else None,
            "records": _some(
                {
                    "description": _clean(form, "records_description"),
                    "date_from": _clean(form, "date_from"),
                    "date_to": _clean(form, "date_to"),
                }
            ),
            "delivery_method": _clean(form, "delivery"),
            "authorization": authorization,
        }
    )
