"""Activity names: the only thing workflows know about activities besides their input types."""

PROJECT = "project_request"
SEND_NOTICE = "send_notice"
DELIVER = "deliver_records"
RECORD_DISCLOSURE = "record_disclosure"
NOTIFY_STAFF = "notify_staff"
