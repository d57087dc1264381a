"""Where released records come from: a FHIR R4 server in production, a folder in the demo."""

from activities.sources.base import RecordDocument, RecordQuery, RecordSource, query_for

__all__ = ["RecordDocument", "RecordQuery", "RecordSource", "query_for"]
