"""eBay's OpenAPI documents as the sandbox's referee: every request and every response is checked.

The documents ship in ``ordersync_ebay/spec/`` unchanged. In memory, two things change: the
``servers`` template (``https://api.ebay.com{basePath}``, which openapi-core cannot match) becomes
the base path alone, and every object schema with properties gets ``additionalProperties: false``
so that a misspelt field, in a request or in the sandbox's own answer, is an error rather than
silently ignored. That makes the sandbox stricter than eBay on unknown fields, on purpose.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol

from openapi_core import OpenAPI
from openapi_core.contrib.starlette.requests import StarletteOpenAPIRequest
from openapi_core.contrib.starlette.responses import StarletteOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from starlette.requests import Request
from starlette.responses import Response

Api = Literal["fulfillment", "inventory"]


class Validator(Protocol):
    """What the sandbox uses of a jsonschema validator."""

    def iter_errors(self, instance: Any) -> Iterator[Any]: ...


BASE_PATHS: dict[Api, str] = {
    "fulfillment": "/sell/fulfillment/v1",
    "inventory": "/sell/inventory/v1",
}
_FILES: dict[Api, str] = {
    "fulfillment": "sell_fulfillment_v1_oas3.json",
    "inventory": "sell_inventory_v1_oas3.json",
}
#: Error ids the sandbox answers with when a request breaks the schema (eBay's own ids for
#: "Invalid input data" and "Invalid value for {fieldName}").
SCHEMA_ERROR_IDS: dict[Api, tuple[int, str]] = {
    "fulfillment": (32600, "API_FULFILLMENT"),
    "inventory": (25709, "API_INVENTORY"),
}


def _strict(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


@cache
def document(api: Api) -> dict[str, Any]:
    """The published document, as shipped (parsed once per process)."""
    text = resources.files("ordersync_ebay").joinpath("spec", _FILES[api]).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def strict_document(api: Api) -> dict[str, Any]:
    data = copy.deepcopy(document(api))
    data["servers"] = [{"url": BASE_PATHS[api]}]
    _strict(data)
    return data


@cache
def openapi(api: Api) -> OpenAPI:
    """The validator for one API (the document is checked against OpenAPI 3.0 once)."""
    return OpenAPI.from_dict(strict_document(api))


@cache
def schema_validator(api: Api, name: str) -> Validator:
    """A JSON-schema validator for one component schema (refs resolved inside the document)."""
    data = strict_document(api)
    schema = {"$ref": f"#/components/schemas/{name}", "components": data["components"]}
    validator: Validator = OAS30Validator(schema)
    return validator


@cache
def error_body_validator(api: Api) -> Validator:
    """eBay's error body: ``{"errors": [Error, ...]}`` with the document's ``Error`` schema."""
    data = strict_document(api)
    schema = {
        "type": "object",
        "properties": {"errors": {"type": "array", "minItems": 1,
                                  "items": {"$ref": "#/components/schemas/Error"}}},
        "required": ["errors"],
        "additionalProperties": False,
        "components": data["components"],
    }
    validator: Validator = OAS30Validator(schema)
    return validator


@dataclass
class Problem:
    """What is wrong with a request or a response, in words."""

    what: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.what}" if self.field else self.what


def _problems(errors: list[Exception]) -> list[Problem]:
    out = []
    for error in errors:
        schema_errors = getattr(error.__cause__, "schema_errors", None)
        if schema_errors:
            for item in schema_errors:
                path = ".".join(str(part) for part in item.absolute_path) or None
                out.append(Problem(item.message, path))
        else:
            cause = f" ({error.__cause__})" if error.__cause__ else ""
            out.append(Problem(f"{error}{cause}"))
    return out


def request_problems(api: Api, request: Request, body: bytes) -> list[Problem]:
    with warnings.catch_warnings():
        # openapi-core cannot check oauth2 schemes and says so on every call; the sandbox
        # checks the bearer token itself.
        warnings.simplefilter("ignore", UserWarning)
        errors = list(openapi(api).iter_request_errors(StarletteOpenAPIRequest(request, body)))
    return _problems(errors)


def response_problems(
    api: Api, request: Request, body: bytes, response: Response
) -> list[Problem]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        errors = list(openapi(api).iter_response_errors(
            StarletteOpenAPIRequest(request, body), StarletteOpenAPIResponse(response)
        ))
    # A status the operation does not list (401, 429, 503) is eBay's gateway speaking, and
    # a documented 4xx/5xx has no schema in the document: both are checked as error bodies.
    problems = _problems([e for e in errors if not isinstance(e, ResponseNotFound)])
    if response.status_code >= 400:
        problems += body_problems(error_body_validator(api), response.body)
    return problems


def body_problems(validator: Validator, raw: bytes | memoryview) -> list[Problem]:
    try:
        data = json.loads(bytes(raw))
    except ValueError as exc:
        return [Problem(f"body is not JSON: {exc}")]
    return [Problem(error.message, ".".join(str(p) for p in error.absolute_path) or None)
            for error in validator.iter_errors(data)]
