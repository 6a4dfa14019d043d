"""The canonical order's own rules: what a channel plugin's mapping can never produce."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ordersync.errors import OrderError
from ordersync.models import _printable_id
from ordersync.testing.builders import make_line, make_order
from pydantic import ValidationError


@pytest.mark.parametrize("bad", ["A-\x001", "A-1\n", "\x7fA"])
def test_an_order_id_with_a_control_character_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(ValidationError, match="control character U\\+00"):
        make_order(bad)


@pytest.mark.parametrize("field", ["id", "listing_id", "sku"])
def test_a_line_identifier_with_a_control_character_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field}\n.*control character U\\+0000"):
        make_line(**{field: "L-\x00"})


def test_printable_identifiers_of_any_script_are_kept() -> None:
    order = make_order("注文-1", lines=[make_line(listing_id="L 100/ä", sku="MUG·RED")])
    assert (order.id, order.lines[0].listing_id) == ("注文-1", "L 100/ä")


def test_an_order_error_escapes_control_characters_where_it_is_recorded() -> None:
    error = OrderError("nul-\x00-id", "bad\x00value\non two lines")
    assert error.order_id == "nul-\\x00-id"
    assert error.reason == "bad\\x00value\non two lines"
    assert str(error) == "order nul-\\x00-id: bad\\x00value\non two lines"


@given(st.text())
def test_an_identifier_is_refused_exactly_when_it_has_a_control_character(value: str) -> None:
    # (Other characters that are not printable, such as U+00A0 or U+2028, are kept.)
    control = any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    if control:
        with pytest.raises(ValueError, match="control character"):
            _printable_id(value)
    else:
        assert _printable_id(value) == value


def test_unusual_but_not_control_characters_are_kept() -> None:
    assert _printable_id("A\u00a0B\u2028C\u200b") == "A\u00a0B\u2028C\u200b"
