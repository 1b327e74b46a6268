"""Ways to deliver a message: SMTP for production, .eml files for local use."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

log = logging.getLogger(__name__)


class SmtpTransport:
    def __init__(self, host: str, port: int, security: str = "none", username: str = "",
                 password: str = "", timeout: float = 10.0):
        if security not in {"none", "starttls", "tls"}:
            raise ValueError("SMTP_SECURITY must be none, starttls or tls")
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def deliver(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password)
            client.send_message(message)


class FileTransport:
    """Writes each message as an .eml file and logs its first link, for `make run`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def deliver(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9]+", "-", str(message["Message-ID"]).strip("<>"))[:80]
        path = self.folder / f"{stem}.eml"
        path.write_bytes(bytes(message))
        body = message.get_content()
        link = re.search(r"https?://\S+", body)
        log.warning("mail to %s: %s -> %s%s", message["To"], message["Subject"], path,
                    f"\n  link: {link.group(0)}" if link else "")
        print(f"[mail] to {message['To']}: {message['Subject']} ({path})"
              + (f"\n[mail] link: {link.group(0)}" if link else ""), flush=True)


def transport_from_config(config: dict):
    if config["MAIL_TRANSPORT"] == "smtp":
        return SmtpTransport(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_SECURITY"],
                             config["SMTP_USERNAME"], config["SMTP_PASSWORD"], config["SMTP_TIMEOUT"])
    if config["MAIL_TRANSPORT"] == "file":
        return FileTransport(Path(config["PORTAL_DATA_DIR"]) / "mail")
    raise ValueError(f"MAIL_TRANSPORT must be 'smtp' or 'file', not {config['MAIL_TRANSPORT']!r}")
