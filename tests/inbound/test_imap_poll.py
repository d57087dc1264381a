"""The ROI mailbox over IMAP, against a private Dovecot (Debian's dovecot-imapd) started here:
each scan attached to a message is stored once, even when the poll runs twice or dies after
storing and before marking the message; a message without a scan is kept as its text."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from activities.imap_poll import STORED_KEYWORD, MailboxActivities, MailboxConfig, poll_once
from store import documents
from store.db import session_scope

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "synthetic-mailbox-pass-1"

pytestmark = [
    pytest.mark.skipif(
        not Path(DOVECOT).exists(),
        reason="Debian's dovecot-imapd is not installed (apt-get install dovecot-imapd)",
    ),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="a private Dovecot needs root to run its login processes"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dovecot() -> Iterator[MailboxConfig]:
    """A Dovecot of our own on a free port: passwd-file auth, maildir under a temp folder."""
    folder = Path(tempfile.mkdtemp(prefix="roi-dovecot-"))
    folder.chmod(0o755)
    port = _free_port()
    mail_user = pwd.getpwnam("dovecot")
    (folder / "home").mkdir()
    os.chown(folder / "home", mail_user.pw_uid, mail_user.pw_gid)
    (folder / "passwd").write_text(f"roi:{{PLAIN}}{PASSWORD}::::::\n")
    config = folder / "dovecot.conf"
    config.write_text(
        f"""base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={folder}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (folder / "dovecot.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "dovecot did not start"
                time.sleep(0.2)
        yield MailboxConfig(
            host="127.0.0.1",
            port=port,
            username="roi",
            password=PASSWORD,
            tls="none",
            folders=(("INBOX", "wisconsin"),),
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _message(message_id: str, attachments: list[tuple[bytes, str, str]]) -> bytes:
    message = EmailMessage()
    message["From"] = "Synthetic Sender <sender@clinic.example>"
    message["To"] = "roi@hospital.example"
    message["Subject"] = "Records request"
    message["Message-ID"] = message_id
    message.set_content("Please see the attached signed authorization.")
    for content, subtype, name in attachments:
        maintype, _, sub = subtype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=sub, filename=name)
    return message.as_bytes()


def _append(config: MailboxConfig, raw: bytes) -> None:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(config.host, config.port).login(
        config.username, config.password, "INBOX"
    ) as box:
        box.append(raw, "INBOX")


def _unmark_all(config: MailboxConfig) -> None:
    """As if the poll had died after storing and before marking the messages."""
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(config.host, config.port).login(
        config.username, config.password, "INBOX"
    ) as box:
        uids = [m.uid for m in box.fetch(mark_seen=False, headers_only=True) if m.uid]
        box.flag(uids, STORED_KEYWORD, False)


def _email_documents(database_url: str) -> list[documents.InboundDocument]:
    with session_scope(database_url) as session:
        rows = list(
            session.execute(
                select(documents.InboundDocument).where(
                    col(documents.InboundDocument.channel) == "email"
                )
            ).scalars()
        )
        session.expunge_all()
    return rows


def test_each_attachment_is_stored_once_even_when_polled_twice(
    dovecot: MailboxConfig, database_url: str
) -> None:
    from tests.inbound.test_webhook_and_list import _pdf, _tiff

    pdf, tiff = _pdf(), _tiff()
    _append(dovecot, _message("<scan-1@clinic.example>", [(pdf, "application/pdf", "auth.pdf")]))
    _append(
        dovecot,
        _message(
            "<scan-2@clinic.example>",
            [(tiff, "image/tiff", "page.tif"), (pdf, "application/pdf", "second.pdf")],
        ),
    )
    _append(dovecot, _message("<note-3@clinic.example>", []))  # the request is the email

    first = poll_once(dovecot, database_url)
    assert len(first) == 4
    assert poll_once(dovecot, database_url) == []  # marked: nothing fetched again
    _unmark_all(dovecot)
    assert poll_once(dovecot, database_url) == []  # fetched again, stored nothing twice
    rows = _email_documents(database_url)
    assert len(rows) == 4 and {r.site for r in rows} == {"wisconsin"}
    contents = sorted((r.content_type, len(r.content)) for r in rows)
    assert ("application/pdf", len(pdf)) in contents and ("image/tiff", len(tiff)) in contents
    text = next(r for r in rows if r.content_type == "text/plain")
    assert b"attached signed authorization" in bytes(text.content)
    assert len({r.source_key for r in rows}) == 4

    # the activity hands the new ones, and any whose reading never started, to the workflow
    _append(dovecot, _message("<scan-4@clinic.example>", [(pdf, "application/pdf", "a.pdf")]))
    handed = MailboxActivities(database_url, dovecot).poll_mailbox()
    assert len(handed) == 1 and handed[0] not in first
