"""The bases of a plugin's payload models: answers take what the platform adds without error,
requests refuse what the plugin did not declare, and a camelCase platform sets only its names."""

from __future__ import annotations

import pytest
from ordersync.http import Payload, RequestBody
from pydantic import ConfigDict, ValidationError
from pydantic.alias_generators import to_camel


class Camel(Payload):
    model_config = ConfigDict(alias_generator=to_camel)


class Order(Camel):
    order_id: str
    line_count: int = 0


class CamelRequest(RequestBody):
    model_config = ConfigDict(alias_generator=to_camel)


class Shipment(CamelRequest):
    tracking_number: str
    carrier_code: str | None = None


def test_an_answer_ignores_fields_the_platform_added() -> None:
    order = Order.model_validate({"orderId": "1", "lineCount": 2, "somethingNew": True})
    assert (order.order_id, order.line_count) == ("1", 2)
    assert Order(order_id="2").order_id == "2"  # by name too


def test_a_request_refuses_undeclared_fields_and_sends_the_platforms_names() -> None:
    with pytest.raises(ValidationError):
        Shipment.model_validate({"trackingNumber": "T1", "surprise": 1})
    assert Shipment(tracking_number="T1").body() == {"trackingNumber": "T1"}


def test_a_request_is_frozen() -> None:
    shipment = Shipment(tracking_number="T1")
    with pytest.raises(ValidationError):
        shipment.tracking_number = "T2"  # type: ignore[misc]
