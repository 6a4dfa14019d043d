"""Credentials in ``ordersync.yaml``: references, Secret fields, and never printing a value.

The credential used throughout is ``CANARY``; every test that can print something checks that
the canary is not in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ordersync.config import ConfigErrors, Settings, load_config, redacted_config
from ordersync.errors import ConfigError
from ordersync.plugins import Registry, load_plugins
from ordersync.secrets import MASK, is_reference, resolve_string, scrubber

from tests import doubles_config
from tests.doubles_config import CANARY, base_config, merged, write_config

ENV = {"MARKET_TOKEN": CANARY}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_plugins(entry_point_list=[], extra=[("config-doubles", doubles_config)])


def load(folder: Path, registry: Registry, patch: dict[str, Any],
         environ: dict[str, str] | None = None) -> Settings:
    path = write_config(folder, merged(base_config(), patch))
    return load_config(path, registry, ENV if environ is None else environ)


def errors(folder: Path, registry: Registry, patch: dict[str, Any],
           environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load(folder, registry, patch, environ)
    return [str(error) for error in caught.value.errors]


# -------------------------------------------------------------------------------------------------
# References
# -------------------------------------------------------------------------------------------------


def test_env_reference_reads_the_variable(tmp_path: Path) -> None:
    assert resolve_string("${A}-${B_2}", "x", {"A": "1", "B_2": "two"}, tmp_path) == "1-two"


def test_file_reference_reads_the_file_without_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"{CANARY}\n\n", encoding="utf-8")
    assert resolve_string(f"${{file:{tmp_path}/token}}", "x", {}, tmp_path) == CANARY


def test_relative_file_reference_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "shop").write_text("abc\r\n", encoding="utf-8")
    assert resolve_string("${file:secrets/shop}", "x", {}, tmp_path) == "abc"


def test_double_dollar_is_a_literal(tmp_path: Path) -> None:
    assert resolve_string("cost $${HOME} and $5", "x", {}, tmp_path) == "cost ${HOME} and $5"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("${MISSING}", "environment variable MISSING is not set"),
        ("${file:/nonexistent/ordersync/x}", "file /nonexistent/ordersync/x does not exist"),
        ("${not a name}", "not a valid reference: inside ${...} write an environment variable"),
        ("${file:}", "${file:} needs a path"),
        ("abc ${OPEN", "a ${ is not closed by }"),
    ],
)
def test_bad_reference_names_the_path_and_the_variable_or_file(
    tmp_path: Path, text: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_string(text, "channels.a.region", {}, tmp_path)
    assert caught.value.path == "channels.a.region"
    assert caught.value.reason.startswith(reason)


def test_reference_to_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        resolve_string(f"${{file:{tmp_path}}}", "x", {}, tmp_path)


def test_empty_credential_is_refused_but_an_empty_plain_value_is_not(tmp_path: Path) -> None:
    assert resolve_string("${EMPTY}", "x", {"EMPTY": ""}, tmp_path) == ""
    with pytest.raises(ConfigError, match="environment variable EMPTY is empty"):
        resolve_string("${EMPTY}", "x", {"EMPTY": ""}, tmp_path, secret=True)
    (tmp_path / "blank").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        resolve_string("${file:blank}", "x", {}, tmp_path, secret=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("${A}", True), ("${file:/x}", True), ("x${A}", False), ("${A}${B}", False),
     ("${A}/", False), ("A", False), (None, False), (123, False)],
)
def test_a_reference_is_one_reference_and_nothing_else(value: object, expected: bool) -> None:
    assert is_reference(value) is expected


# -------------------------------------------------------------------------------------------------
# Secret fields
# -------------------------------------------------------------------------------------------------


def test_clear_text_credential_is_refused_without_repeating_it(
    tmp_path: Path, registry: Registry
) -> None:
    assert errors(tmp_path, registry, {"channels": {"ebay-uk": {"refresh_token": CANARY}}}) == [
        "channels.ebay-uk.refresh_token: credentials must come from the environment or a file: "
        "write ${MARKET_REFRESH_TOKEN} or ${file:/run/secrets/market}"
    ]


@pytest.mark.parametrize(
    "value", [f"${{MARKET_TOKEN}}{CANARY}", "Bearer ${MARKET_TOKEN}", 12345678, ["a"]]
)
def test_credential_must_be_exactly_one_reference(
    tmp_path: Path, registry: Registry, value: object
) -> None:
    (message,) = errors(tmp_path, registry, {"channels": {"ebay-uk": {"refresh_token": value}}})
    assert message.startswith("channels.ebay-uk.refresh_token: credentials must come from")
    assert CANARY not in message


def test_credential_in_a_nested_section_is_found(tmp_path: Path, registry: Registry) -> None:
    patch = {"channels": {"ebay-uk": {"app": {"client_id": "id", "client_secret": CANARY}}}}
    assert errors(tmp_path, registry, patch) == [
        "channels.ebay-uk.app.client_secret: credentials must come from the environment or a "
        "file: write ${MARKET_CLIENT_SECRET} or ${file:/run/secrets/market}"
    ]


def test_credentials_in_a_list_are_each_checked(tmp_path: Path, registry: Registry) -> None:
    patch = {"notifiers": {"ops": {"type": "pager", "token": "${MARKET_TOKEN}",
                                   "backup_tokens": ["${MARKET_TOKEN}", CANARY]}}}
    (message,) = errors(tmp_path, registry, patch)
    assert message.startswith("notifiers.ops.backup_tokens.1: credentials must come from")


def test_optional_credential_may_be_left_out_or_null(tmp_path: Path, registry: Registry) -> None:
    settings = load(tmp_path, registry, {"main_store": {"api_key": None}})
    assert settings.main_store.api_key is None  # type: ignore[attr-defined]


def test_missing_variable_names_path_and_variable(tmp_path: Path, registry: Registry) -> None:
    assert errors(tmp_path, registry, {}, environ={}) == [
        "channels.ebay-uk.refresh_token: environment variable MARKET_TOKEN is not set"
    ]


def test_missing_secret_file_names_path_and_file(tmp_path: Path, registry: Registry) -> None:
    patch = {"channels": {"ebay-uk": {"refresh_token": "${file:secrets/ebay}"}}}
    assert errors(tmp_path, registry, patch) == [
        f"channels.ebay-uk.refresh_token: file {tmp_path}/secrets/ebay does not exist"
    ]


def test_credential_from_a_file_is_loaded(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "ebay").write_text(CANARY + "\n", encoding="utf-8")
    settings = load(tmp_path, registry,
                    {"channels": {"ebay-uk": {"refresh_token": "${file:ebay}"}}}, environ={})
    token = settings.channels["ebay-uk"].refresh_token  # type: ignore[attr-defined]
    assert token.get_secret_value() == CANARY


def test_plugin_message_repeating_a_credential_is_masked(
    tmp_path: Path, registry: Registry
) -> None:
    (message,) = errors(tmp_path, registry, {"channels": {"ebay-uk": {"type": "careless"}}})
    assert message == "channels.ebay-uk.refresh_token: token *** was revoked"


# -------------------------------------------------------------------------------------------------
# Showing the configuration
# -------------------------------------------------------------------------------------------------


def test_redacted_config_masks_every_credential_and_keeps_other_references(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(
        tmp_path, registry,
        {
            "database": "postgresql+psycopg://sync:${PGPASS}@db/ordersync",
            "main_store": {"api_key": "${MARKET_TOKEN}"},
            "channels": {"ebay-uk": {"region": "${REGION}",
                                     "app": {"client_id": "app-1",
                                             "client_secret": "${MARKET_TOKEN}"}}},
            "notifiers": {"ops": {"type": "pager", "token": "${MARKET_TOKEN}",
                                  "backup_tokens": ["${MARKET_TOKEN}"]}},
        },
        {**ENV, "REGION": "DE", "PGPASS": "pg-" + CANARY},
    )
    shown = redacted_config(settings)

    assert shown["database"] == f"postgresql+psycopg://sync:{MASK}@db/ordersync"
    assert shown["main_store"] == {"type": "plainstore", "api_key": MASK}
    channel = shown["channels"]["ebay-uk"]
    assert channel["refresh_token"] == MASK
    assert channel["app"] == {"client_id": "app-1", "client_secret": MASK}
    assert channel["region"] == "${REGION}"
    assert shown["notifiers"]["ops"]["token"] == MASK
    assert shown["notifiers"]["ops"]["backup_tokens"] == [MASK]
    assert CANARY not in repr(shown)
    assert settings.raw["channels"]["ebay-uk"]["refresh_token"] == "${MARKET_TOKEN}"


def test_credential_value_pasted_into_another_key_is_masked(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, {"channels": {"ebay-uk": {"region": f"x{CANARY}"}}})
    assert redacted_config(settings)["channels"]["ebay-uk"]["region"] == f"x{MASK}"


def test_settings_and_configs_never_print_a_credential(
    tmp_path: Path, registry: Registry
) -> None:
    settings = load(tmp_path, registry, {})
    assert CANARY not in repr(settings)
    assert CANARY not in repr(settings.channels)
    assert CANARY not in str(settings.channels["ebay-uk"])
    assert settings.scrub(f"refresh failed for {CANARY}") == "refresh failed for ***"


def test_scrubber_masks_longest_values_first() -> None:
    scrub = scrubber(["abcd", "abcdefgh", "ab"])
    assert scrub("abcdefgh abcd ab") == "*** *** ab"
