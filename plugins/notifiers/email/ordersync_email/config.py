"""The ``email`` notifier's section of ``ordersync.yaml``, checked when the configuration loads.

Addresses are checked here, strictly and without the email-validator package, so that a typo
is a config error at start-up rather than a bounce at the moment an operator needs the alert.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from typing import Any, Literal, Self

from ordersync.platform import ConfigPath, NotifierConfig, Secret
from pydantic import ConfigDict, Field, field_validator, model_validator

#: Port used when ``port`` is not given: submission (587) for STARTTLS and plain, 465 for SSL.
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 587}

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_NAMED = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<spec>[^<>]*)>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_address(text: str) -> Address:
    """``ops@example.com`` or ``Ops Team <ops@example.com>`` as an :class:`Address`.

    The address itself must be ASCII: a dot-atom local part (at most 64 characters) and a host
    name (``localhost`` is allowed, so is ``example.com``); at most 254 characters in all.
    Quoted local parts, IP-literal domains and international addresses are refused.

    :raises ValueError: naming the text and what an address should look like.
    """
    if _CONTROL.search(text):
        # A line break in an address would let alert data inject headers.
        msg = f"{text!r} is not an email address: it contains a control character"
        raise ValueError(msg)
    name, spec = "", text.strip()
    if named := _NAMED.fullmatch(spec):
        name, spec = named["name"].strip().strip('"'), named["spec"].strip()
    local, at, domain = spec.rpartition("@")
    if (
        not at
        or len(local) > 64
        or len(spec) > 254
        or not _LOCAL_PART.fullmatch(local)
        or not _DOMAIN.fullmatch(domain)
    ):
        msg = (
            f"{text!r} is not an email address "
            "(expected name@example.com or 'Name <name@example.com>')"
        )
        raise ValueError(msg)
    return Address(display_name=name, username=local, domain=domain)


class EmailConfig(NotifierConfig):
    """``notifiers.<name>`` with ``type: email``: where and how to send alert emails."""

    # ``from`` is a Python keyword, so the field is ``sender`` and YAML uses the alias.
    # Errors must not echo the section: by then ``${SMTP_PASSWORD}`` holds the real password.
    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, hide_input_in_errors=True
    )

    host: str = Field(min_length=1, description="SMTP server host name or IP address")
    port: int = Field(
        default=DEFAULT_PORTS["starttls"],
        ge=1,
        le=65535,
        description="SMTP port; 587 unless security is ssl, then 465",
    )
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls: upgrade a plain connection; ssl: TLS from the start; none: no TLS",
    )
    username: str | None = Field(default=None, description="SMTP AUTH user (not a secret)")
    password: Secret | None = Field(default=None, description="SMTP AUTH password: ${ENV}")
    sender: str = Field(
        default="ordersync@localhost", alias="from", description="The From address of alerts"
    )
    to: list[str] = Field(min_length=1, description="Recipients of every alert")
    timeout: float = Field(default=30, gt=0, description="Seconds per SMTP connect/command")
    tls_verify: bool = Field(
        default=True, description="Check the server's certificate (turn off for test servers only)"
    )
    ca_file: ConfigPath | None = Field(
        default=None, description="PEM file of the CA(s) to trust instead of the system's"
    )

    @field_validator("host")
    @classmethod
    def _host_is_one_word(cls, host: str) -> str:
        if _CONTROL.search(host) or " " in host.strip():
            msg = f"host {host!r} is not a host name"
            raise ValueError(msg)
        return host.strip()

    @field_validator("to", mode="before")
    @classmethod
    def _one_recipient_may_be_a_string(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _recipients_are_addresses(cls, to: list[str]) -> list[str]:
        for address in to:
            parse_address(address)
        return to

    @field_validator("sender")
    @classmethod
    def _sender_is_an_address(cls, sender: str) -> str:
        parse_address(sender)
        return sender

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, path: Any) -> Any:
        if path is not None and not path.is_file():
            msg = f"ca_file {str(path)!r}: no such file"
            raise ValueError(msg)
        return path

    @model_validator(mode="after")
    def _settings_fit_together(self) -> Self:
        if "port" not in self.model_fields_set:
            self.port = DEFAULT_PORTS[self.security]
        if self.password is not None and not self.username:
            msg = "password is set but username is missing: SMTP AUTH needs both (or neither)"
            raise ValueError(msg)
        if self.username and self.password is None:
            msg = (
                f"username {self.username!r} is set but password is missing: SMTP AUTH needs "
                "both (or neither); give password: ${SMTP_PASSWORD}"
            )
            raise ValueError(msg)
        if self.security == "none" and self.password is not None:
            msg = (
                "security: none would send the SMTP password in clear text; "
                "use security: starttls or ssl"
            )
            raise ValueError(msg)
        if self.security == "none" and (self.ca_file is not None or not self.tls_verify):
            msg = "ca_file and tls_verify apply to TLS only; they need security: starttls or ssl"
            raise ValueError(msg)
        return self

    def sender_address(self) -> Address:
        return parse_address(self.sender)

    def recipient_addresses(self) -> list[Address]:
        return [parse_address(address) for address in self.to]
