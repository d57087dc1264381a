"""Custom search attributes: how Temporal lists and filters requests (never PHI)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SITE = SearchAttributeKey.for_keyword("RoiSite")
KIND = SearchAttributeKey.for_keyword("RoiKind")
STATUS = SearchAttributeKey.for_keyword("RoiStatus")
TARGET_DUE = SearchAttributeKey.for_datetime("RoiTargetDueAt")
LEGAL_DUE = SearchAttributeKey.for_datetime("RoiLegalDueAt")
BREACHED = SearchAttributeKey.for_bool("RoiBreached")

#: name -> type, as `temporal server start-dev --search-attribute NAME=TYPE` wants them.
REGISTRATION: dict[str, str] = {
    SITE.name: "Keyword",
    KIND.name: "Keyword",
    STATUS.name: "Keyword",
    TARGET_DUE.name: "Datetime",
    LEGAL_DUE.name: "Datetime",
    BREACHED.name: "Bool",
}
