"""Activity names: the only thing workflows know about activities besides their input types."""

PROJECT = "project_request"
SEND_NOTICE = "send_notice"
DELIVER = "deliver_records"
RECORD_DISCLOSURE = "record_disclosure"
NOTIFY_STAFF = "notify_staff"
PROJECT_CASE = "project_case"
BEGIN_RELEASE = "begin_release"
APPLY_REVOCATION = "apply_revocation"
UPDATE_REGISTRY = "update_patient_registry"
RECORD_AMENDMENT = "record_amendment"
CHANGE_PROXY = "change_proxy_access"
HAND_OFF = "hand_off"
PATIENT_DISCLOSURES = "patient_disclosures"
PRIOR_ACCOUNTINGS = "prior_accountings"
TRACK_SHIPMENT = "track_shipment"
COUNT_PAGES = "count_pages"  # pages of the records found, for a per-page quote
RELEASE_FACTS = "release_facts"  # what the workflow re-judges at the moment of release
SEND_OUTSIDE_REPLY = "send_outside_records_reply"  # the redirect answer to the sender
# the site batch (workflows/batch.py)
BATCH_START = "batch_start"
BATCH_BUILD = "batch_build"
BATCH_FINISH = "batch_finish"
BATCH_MARK_SIGNALLED = "batch_mark_signalled"
# inbound documents (issue 19): fax, email, upload; read by OCR
READ_DOCUMENT = "read_inbound_document"
POLL_MAILBOX = "poll_inbound_mailbox"
