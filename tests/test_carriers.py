"""Carrier names: one key per carrier whatever its spelling, platform codes found by any name of
the carrier, and refusals that list what the platform takes."""

from __future__ import annotations

import pytest
from ordersync.carriers import (
    ALIASES,
    CarrierCodes,
    UnknownCarrierError,
    carrier_key,
    name_key,
    pick_carrier,
)


@pytest.mark.parametrize(("name", "key"), [
    ("Royal Mail", "royalmail"), ("royal-mail", "royalmail"), ("ROYALMAIL", "royalmail"),
    ("Royal Mail Tracked", "royalmail"), ("Hermes", "evri"), ("my Hermes", "evri"),
    ("United States Postal Service", "usps"), ("DPD UK", "dpd"), ("DHL Global Mail",
                                                                   "dhlecommerce"),
    ("Pigeon Post", "pigeonpost"),
])
def test_spellings_and_other_names_of_a_carrier_are_one_key(name: str, key: str) -> None:
    assert carrier_key(name) == key


def test_name_key_only_folds_case_and_punctuation() -> None:
    assert name_key("My-Hermes 2") == "myhermes2"


def test_every_alias_leads_to_a_name_that_is_not_itself_an_alias() -> None:
    assert not set(ALIASES.values()) & set(ALIASES)


CODES = CarrierCodes("Parcelland", {"RoyalMail", "Hermes", "DHL", "DHLEXPRESS", "Other"},
                     by_key={"dhlexpress": "DHL"}, names={"RoyalMail": "Royal Mail",
                                                          "Hermes": "Evri"})


@pytest.mark.parametrize(("name", "code"), [
    ("Royal Mail", "RoyalMail"), ("RoyalMail", "RoyalMail"), ("Evri", "Hermes"),
    ("Hermes", "Hermes"), ("DHL Express", "DHL"), ("other", "Other"),
])
def test_a_platform_code_is_found_by_any_name_of_its_carrier(name: str, code: str) -> None:
    assert CODES.code(name) == code


def test_an_unknown_carrier_is_refused_with_the_names_the_platform_takes() -> None:
    with pytest.raises(UnknownCarrierError) as caught:
        CODES.code("Pigeon Post")
    message = str(caught.value)
    assert "'Pigeon Post'" in message and "Parcelland" in message
    assert "Royal Mail" in message and "Evri" in message


@pytest.mark.parametrize("name", [None, "", "  "])
def test_no_carrier_is_refused(name: str | None) -> None:
    with pytest.raises(UnknownCarrierError, match="no carrier given"):
        CODES.code(name)


def test_a_reported_code_shows_its_name() -> None:
    assert (CODES.name("Hermes"), CODES.name("DHL"), CODES.name(None)) == ("Evri", "DHL", None)


def test_a_table_naming_a_code_the_platform_does_not_take_is_a_bug() -> None:
    with pytest.raises(ValueError, match="Hermez"):
        CarrierCodes("Parcelland", {"Hermes"}, by_key={"evri": "Hermez"})


def test_pick_carrier_finds_the_choice_of_the_same_carrier() -> None:
    choices = [("Royal Mail", 1), ("Evri", 2)]
    assert pick_carrier("myhermes", choices, platform="P", accepted="its carriers") == 2
    with pytest.raises(UnknownCarrierError, match="P takes only its carriers; use one of: "
                                                  "Evri, Royal Mail"):
        pick_carrier("UPS", choices, platform="P", accepted="its carriers")
    with pytest.raises(UnknownCarrierError, match=r"\(none\)"):
        pick_carrier("UPS", [], platform="P", accepted="its carriers")
