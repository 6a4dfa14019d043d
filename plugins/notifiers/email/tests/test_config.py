"""The ``email`` notifier's YAML section: what is accepted, and the errors for what is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ordersync_email import EmailNotifier, parse_address
from ordersync_email.config import EmailConfig
from pydantic import SecretStr, ValidationError


def config(**section: Any) -> EmailConfig:
    return EmailConfig.model_validate(
        {"type": "email", "host": "smtp.example.com", "to": ["ops@example.com"], **section}
    )


def error_text(**section: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        config(**section)
    return str(caught.value)


def test_notifier_type_uses_this_config() -> None:
    assert EmailNotifier.Config is EmailConfig
    assert EmailNotifier.type_name == "email"


def test_minimal_section_gets_the_documented_defaults() -> None:
    section = config()
    assert section.port == 587
    assert section.security == "starttls"
    assert section.sender == "ordersync@localhost"
    assert section.username is None
    assert section.password is None
    assert section.timeout == 30
    assert section.tls_verify is True
    assert section.ca_file is None


def test_from_key_in_yaml_sets_the_sender() -> None:
    assert config(**{"from": "Shop alerts <alerts@shop.example>"}).sender == (
        "Shop alerts <alerts@shop.example>"
    )


def test_sender_can_also_be_given_by_field_name_in_python() -> None:
    assert config(sender="alerts@shop.example").sender == "alerts@shop.example"


def test_ssl_without_a_port_uses_465_and_an_explicit_port_is_kept() -> None:
    assert config(security="ssl").port == 465
    assert config(security="ssl", port=2465).port == 2465
    assert config(security="none").port == 587


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_outside_1_to_65535_is_refused(port: int) -> None:
    assert "port" in error_text(port=port)


def test_unknown_security_mode_is_refused() -> None:
    assert "security" in error_text(security="tls")


def test_a_single_recipient_may_be_written_as_a_string() -> None:
    assert config(to="ops@example.com").to == ["ops@example.com"]


def test_at_least_one_recipient_is_required() -> None:
    assert "to" in error_text(to=[])


@pytest.mark.parametrize(
    "address",
    [
        "ops@example.com",
        "ordersync@localhost",
        "o.p+s_1@mail.sub.example.co.uk",
        "Ops Team <ops@example.com>",
        '"Ops, Team" <ops@example.com>',
    ],
)
def test_valid_addresses_are_accepted(address: str) -> None:
    assert config(to=[address]).to == [address]


@pytest.mark.parametrize(
    "address",
    [
        "ops",
        "ops@",
        "@example.com",
        "ops@@example.com",
        "o ps@example.com",
        "ops.@example.com",
        "ops@example..com",
        "ops@-example.com",
        "ops@example.com>",
        "ops@exämple.com",
        "ops@example.com\nBcc: everyone@example.com",
        "Ops <ops>",
        "x" * 65 + "@example.com",
    ],
)
def test_malformed_recipient_is_a_config_error_naming_it(address: str) -> None:
    text = error_text(to=["good@example.com", address])
    assert "not an email address" in text


def test_malformed_sender_is_a_config_error() -> None:
    assert "not an email address" in error_text(**{"from": "ordersync"})


def test_parsed_address_keeps_the_display_name() -> None:
    address = parse_address("Ops Team <ops@example.com>")
    assert (address.display_name, address.addr_spec) == ("Ops Team", "ops@example.com")


def test_password_without_username_is_a_clear_config_error() -> None:
    text = error_text(password=SecretStr("pw-123"))
    assert "password is set but username is missing" in text
    assert "pw-123" not in text


def test_username_without_password_is_a_clear_config_error() -> None:
    assert "username 'alerts' is set but password is missing" in error_text(username="alerts")


def test_password_over_an_unencrypted_connection_is_refused() -> None:
    text = error_text(security="none", username="alerts", password=SecretStr("pw-123"))
    assert "clear text" in text


def test_tls_settings_without_tls_are_refused() -> None:
    assert "TLS only" in error_text(security="none", tls_verify=False)


def test_password_never_shows_in_the_config_repr() -> None:
    section = config(username="alerts", password=SecretStr("pw-123"))
    assert "pw-123" not in repr(section)
    assert "pw-123" not in str(section.model_dump())


def test_unknown_key_is_refused() -> None:
    assert "passwd" in error_text(passwd="x")


def test_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    assert "no such file" in error_text(ca_file=str(tmp_path / "missing.pem"))


def test_relative_ca_file_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not checked until a connection is made")
    section = EmailConfig.model_validate(
        {"type": "email", "host": "h", "to": ["ops@example.com"], "ca_file": "ca.pem"},
        context={"base_dir": tmp_path},
    )
    assert section.ca_file == tmp_path / "ca.pem"


def test_config_errors_never_echo_the_resolved_password() -> None:
    # The loader hands over ``${SMTP_PASSWORD}`` already resolved, as a plain string.
    for section in ({"password": "pw-plain-123"}, {"username": "u", "password": "pw-plain-123",
                                                   "to": ["not an address"]}):
        assert "pw-plain-123" not in error_text(**section)
