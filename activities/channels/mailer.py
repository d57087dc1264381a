"""Email out: SMTP when a host is configured (STARTTLS or TLS when asked), else the outbox."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from activities.outbox import Outbox


@dataclass
class Mailer:
    """Sends a message once per key (the Message-ID carries the key, so receivers dedupe too)."""

    outbox: Outbox
    host: str | None = None
    port: int = 25
    tls: str = "none"  # none, starttls, ssl
    username: str | None = None
    password: str | None = None
    sender: str = "Release of Information <roi-noreply@hospital.example>"
    timeout: float = 30.0

    def send(self, message: EmailMessage, key: str) -> str:
        """Hand the message to SMTP (or write it to outbox/email); returns where it went."""
        if "From" not in message:
            message["From"] = self.sender
        if not self.host:
            return str(self.outbox.write("email", key, ".eml", bytes(message)))
        context = ssl.create_default_context()
        if self.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.tls == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
        return f"smtp:{message['Message-ID']}"
