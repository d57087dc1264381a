"""What a deficient authorization lacks, in the patient's words and language.

domain/authorization.py names each deficiency with a code (its message is English staff text);
the status page shows the sentence for each code here, naming the 45 CFR 164.508(c) element
the corrected form must carry. A code without a sentence (a new check) gets a general one, so
the page never shows staff wording or nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from portal.forms import N_

#: Deficiency code -> what the patient is told is missing (msgid).
SENTENCES: dict[str, str] = {
    "authorization_missing": N_("We did not receive a signed authorization form."),
    "description_missing": N_(
        "The form must describe the information to be released (for example: visit notes "
        "from 2024)."
    ),
    "discloser_missing": N_("The form must name who may release the records (our hospital)."),
    "recipient_missing": N_("The form must name the person or organization receiving the records."),
    "purpose_missing": N_(
        "The form must say why the records are released (“at my request” is enough)."
    ),
    "expiration_missing": N_("The form must give a date or an event when it ends."),
    "signature_missing": N_("The form must be signed."),
    "signature_date_missing": N_("The form must show the date it was signed."),
    "signature_date_in_future": N_("The date next to the signature is in the future."),
    "authority_description_missing": N_(
        "Someone signing for the patient must say how they may act for the patient (for "
        "example: parent or legal guardian)."
    ),
    "authority_documents_missing": N_(
        "Someone signing for the patient must send the document that gives them that right."
    ),
    "authority_document_required": N_(
        "Someone signing for the patient must send the document that gives them that right."
    ),
    "authority_document_not_accepted": N_(
        "The document sent does not give the signer the right to act for the patient."
    ),
    "statement_revocation_missing": N_(
        "The form must say that it can be cancelled in writing, and how."
    ),
    "statement_conditioning_missing": N_(
        "The form must say that care does not depend on signing it."
    ),
    "statement_redisclosure_missing": N_(
        "The form must say that the person receiving the records may share them again."
    ),
    "expired": N_("The form has expired. Sign a new one."),
    "expiration_event_occurred": N_("The form has expired. Sign a new one."),
}
GENERIC = N_("Part of the form is missing or cannot be used. Call us to find out what to change.")


def sentences(codes: Iterable[str], gettext: Callable[[str], str]) -> list[str]:
    """One translated sentence per deficiency, in order, each sentence once."""
    found: list[str] = []
    for code in codes:
        sentence = gettext(SENTENCES.get(code, GENERIC))
        if sentence not in found:
            found.append(sentence)
    return found
