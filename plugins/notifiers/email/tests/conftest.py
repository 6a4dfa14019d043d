"""A real SMTP server for the email notifier's tests: aiosmtpd on 127.0.0.1, ephemeral port.

``smtp_server(**options)`` starts one (plain, STARTTLS, implicit TLS, with or without AUTH) and
stops it after the test; what it received is in ``server.inbox``. The TLS certificate is made
once per session for ``127.0.0.1`` and ``localhost`` and signed by itself, so a test can trust
it through ``ca_file``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass
class Delivery:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    over_tls: bool


@dataclass
class Inbox:
    """aiosmtpd handler (``handle_*`` are its hook names): keeps what arrives, or refuses."""

    deliveries: list[Delivery] = field(default_factory=list)
    reply_to_data: str | None = None
    refuse_rcpt: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.reply_to_data is not None:
            return self.reply_to_data
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.deliveries.append(
            Delivery(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=cast(EmailMessage, message),
                over_tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class Credentials:
    """aiosmtpd authenticator accepting one user; remembers the mechanisms clients used."""

    username: str
    password: str
    mechanisms: list[str] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username.encode()
            and auth_data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False)


class _EphemeralPortController(Controller):
    """Binds port 0; aiosmtpd's start-up probe must then connect to the port the OS chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    credentials: Credentials | None = None


@dataclass
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 and localhost (EC key: quick to make)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ordersync test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(cert=folder / "cert.pem", key=folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def smtp_server(tls_files: TlsFiles) -> Iterator[Callable[..., SmtpServer]]:
    """Start an SMTP server: ``smtp_server(tls="starttls"|"ssl"|None, auth=(user, password))``.

    Extra keyword arguments go to aiosmtpd's ``SMTP`` (e.g. ``auth_exclude_mechanism``).
    """
    controllers: list[Controller] = []

    def start(
        tls: str | None = None, auth: tuple[str, str] | None = None, **smtp_options: Any
    ) -> SmtpServer:
        inbox = Inbox()
        options: dict[str, Any] = dict(smtp_options)
        if tls == "starttls":
            options.update(tls_context=tls_files.server_context(), require_starttls=True)
        elif tls == "ssl":
            options.update(ssl_context=tls_files.server_context())
        credentials = Credentials(*auth) if auth is not None else None
        if credentials is not None:
            options.update(authenticator=credentials, auth_required=True)
        controller = _EphemeralPortController(inbox, hostname=HOST, port=0, **options)
        controller.start()
        controllers.append(controller)
        return SmtpServer(port=controller.port, inbox=inbox, credentials=credentials)

    yield start
    for controller in controllers:
        controller.stop()
