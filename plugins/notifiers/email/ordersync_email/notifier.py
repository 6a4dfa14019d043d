"""The ``email`` notifier: delivers each alert over SMTP with the standard library.

``smtplib`` blocks, so delivery runs in a worker thread (``asyncio.to_thread``). One connection
per alert: alerts are rare, and a fresh connection never trips over a server's idle timeout.
SMTP failures become the core's errors by what to do next: ``RetriableError`` when the server
is unreachable, slow or answers 4xx; ``FatalPlatformError`` when a person must act (bad
password, untrusted certificate, 5xx). Messages name ``host:port``, never the password.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import ClassVar, NoReturn

from ordersync.errors import FatalPlatformError, PlatformError, RetriableError
from ordersync.platform import Alert, Notifier

from ordersync_email.config import EmailConfig
from ordersync_email.message import build_message


class EmailNotifier(Notifier):
    """Sends every alert as a plain-text email to the configured recipients."""

    type_name: ClassVar[str] = "email"
    display_name: ClassVar[str] = "email"
    Config: ClassVar[type[EmailConfig]] = EmailConfig
    config: EmailConfig

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    async def send(self, alert: Alert) -> None:
        message = build_message(
            alert,
            sender=self.config.sender_address(),
            to=self.config.recipient_addresses(),
            notifier=self.name,
        )
        await asyncio.to_thread(self._deliver, message)

    # -- blocking part, runs in a worker thread ------------------------------------------------

    def _deliver(self, message: EmailMessage) -> None:
        config = self.config
        try:
            tls = self._tls_context() if config.security != "none" else None
            client = self._connect(tls)
        except (smtplib.SMTPException, OSError) as exc:
            self._fail(exc)
        try:
            if config.security == "starttls":
                client.starttls(context=tls)
            if config.username and config.password is not None:
                client.login(config.username, config.password.get_secret_value())
            refused = client.send_message(
                message,
                from_addr=config.sender_address().addr_spec,
                to_addrs=[address.addr_spec for address in config.recipient_addresses()],
            )
        except (smtplib.SMTPException, OSError) as exc:
            client.close()
            self._fail(exc)
        # The server took the message: a failing QUIT must not make the core send it again.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
        if refused:
            # Some recipients got it; retrying would send them a duplicate, so only warn.
            refusals = ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in refused.items())
            self.context.log.warning(
                "email notifier %r: %s refused some recipients: %s",
                self.name, self._where, refusals,
            )

    def _tls_context(self) -> ssl.SSLContext:
        config = self.config
        try:
            context = ssl.create_default_context(
                cafile=str(config.ca_file) if config.ca_file is not None else None
            )
        except (OSError, ssl.SSLError) as exc:
            reason = f"cannot load ca_file {str(config.ca_file)!r}: {exc}"
            raise self._error(FatalPlatformError, reason) from None
        if not config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self, tls: ssl.SSLContext | None) -> smtplib.SMTP:
        config = self.config
        if config.security == "ssl":
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=tls
            )
        return smtplib.SMTP(config.host, config.port, timeout=config.timeout)

    # -- errors --------------------------------------------------------------------------------

    def _error(self, kind: type[PlatformError], reason: str) -> PlatformError:
        password = self.config.password
        if password is not None and password.get_secret_value():
            # A server may echo what it was sent; the password must not reach logs through it.
            reason = reason.replace(password.get_secret_value(), "**********")
        return kind("email", f"send alert via {self._where}", reason)

    def _fail(self, exc: BaseException) -> NoReturn:
        kind, reason = self._classify(exc)
        raise self._error(kind, reason) from None

    def _classify(self, exc: BaseException) -> tuple[type[PlatformError], str]:
        """What went wrong, in words an operator can act on, and whether a retry may help."""
        config = self.config
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            # 454 is "temporary authentication failure"; 535 and the other 5xx are for good.
            kind = RetriableError if 400 <= exc.smtp_code < 500 else FatalPlatformError
            return kind, (
                f"authentication failed for user {config.username!r} "
                f"({_reply(exc.smtp_code, exc.smtp_error)}); check username and password"
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            if "STARTTLS" in str(exc):
                return FatalPlatformError, (
                    "the server does not offer STARTTLS; check port and security "
                    "(security: ssl if the port expects TLS from the start, as 465 does)"
                )
            return FatalPlatformError, (
                "the server does not offer SMTP AUTH on this connection; check port and "
                "security, or leave out username and password if it needs none"
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            refusals = "; ".join(
                f"{rcpt}: {_reply(code, text)}" for rcpt, (code, text) in exc.recipients.items()
            )
            kind = RetriableError if all(400 <= c < 500 for c in codes) else FatalPlatformError
            return kind, f"every recipient was refused ({refusals}); check `to`"
        if isinstance(exc, smtplib.SMTPSenderRefused):
            kind = RetriableError if 400 <= exc.smtp_code < 500 else FatalPlatformError
            return kind, (
                f"sender {exc.sender!r} refused ({_reply(exc.smtp_code, exc.smtp_error)}); "
                "check `from`: the server may only accept its own addresses"
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            # Connect, HELO, DATA and other replies: the SMTP code says whether it is for good.
            kind = FatalPlatformError if 500 <= exc.smtp_code < 600 else RetriableError
            return kind, f"the server replied {_reply(exc.smtp_code, exc.smtp_error)}"
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            # smtplib reports a read that timed out as a disconnect; the cause tells them apart.
            if isinstance(exc.__context__, TimeoutError):
                return RetriableError, f"no answer within {config.timeout:g} s (timeout)"
            return RetriableError, f"the server closed the connection: {exc}"
        if isinstance(exc, smtplib.SMTPException):
            # e.g. "No suitable authentication method found."
            return FatalPlatformError, f"{exc}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return FatalPlatformError, (
                f"the server's TLS certificate is not trusted ({exc.verify_message}); set "
                "ca_file to the CA that signed it (tls_verify: false for test servers only)"
            )
        if isinstance(exc, ssl.SSLError):
            return FatalPlatformError, (
                f"TLS failed ({exc.reason or exc}); check security "
                "(ssl for port 465, starttls for 587) and port"
            )
        if isinstance(exc, TimeoutError):
            return RetriableError, f"no answer within {config.timeout:g} s (timeout)"
        if isinstance(exc, socket.gaierror):
            # Often a typo in host, but DNS outages pass, so a later try may work.
            reason = f"cannot resolve host {config.host!r} ({exc.strerror}); check host"
            return RetriableError, reason
        if isinstance(exc, ConnectionRefusedError):
            return RetriableError, "connection refused: is the SMTP server running on this port?"
        return RetriableError, f"{type(exc).__name__}: {exc}"


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}".strip()
