"""An OpenAPI document as a sandbox's referee: requests checked strictly, answers as published.

``spec = OpenApiSpec(document, "/sell/fulfillment/v1")`` takes a platform's document as it ships.
Requests are checked against a stricter copy in which every object schema with properties gets
``additionalProperties: false``, so that a misspelt field a client sends is an error rather than
silently ignored (stricter than most platforms, on purpose). Answers and seeded records are
checked against the document as published: platforms answer with fields their documents leave
out (eBay's ``legacyOrderId``), and a sandbox replaying real answers must be allowed to as well.
The ``servers`` template (``https://api.ebay.com{basePath}``, which openapi-core cannot match)
becomes the base path alone. Needs the ``sandbox`` extra (openapi-core).
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from openapi_core import OpenAPI
from openapi_core.contrib.starlette.requests import StarletteOpenAPIRequest
from openapi_core.contrib.starlette.responses import StarletteOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from starlette.requests import Request
from starlette.responses import Response


class Validator(Protocol):
    """What a sandbox uses of a jsonschema validator."""

    def iter_errors(self, instance: Any) -> Iterator[Any]: ...


@dataclass
class Problem:
    """What is wrong with a request or an answer, in words."""

    what: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.what}" if self.field else self.what


def _strict(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


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


def body_problems(validator: Validator, raw: bytes | memoryview) -> list[Problem]:
    """What ``validator`` finds wrong with a JSON body (or that it is not JSON)."""
    try:
        data = json.loads(bytes(raw))
    except ValueError as exc:
        return [Problem(f"body is not JSON: {exc}")]
    return [Problem(error.message, ".".join(str(p) for p in error.absolute_path) or None)
            for error in validator.iter_errors(data)]


class OpenApiSpec:
    """One OpenAPI 3.0 document served under ``base_path``."""

    def __init__(self, document: dict[str, Any], base_path: str) -> None:
        self.document = document
        self.base_path = base_path

    def _copy(self, strict: bool) -> dict[str, Any]:
        data = copy.deepcopy(self.document)
        data["servers"] = [{"url": self.base_path}]
        if strict:
            _strict(data)
        return data

    @cached_property
    def strict_document(self) -> dict[str, Any]:
        return self._copy(strict=True)

    @cached_property
    def published_document(self) -> dict[str, Any]:
        return self._copy(strict=False)

    @cached_property
    def _requests(self) -> OpenAPI:
        return OpenAPI.from_dict(self.strict_document)

    @cached_property
    def _responses(self) -> OpenAPI:
        return OpenAPI.from_dict(self.published_document)

    def declared_query(self, template: str, method: str) -> set[str]:
        """The query parameters the operation at ``template`` declares."""
        operation = self.document["paths"][template][method.lower()]
        return {param["name"] for param in operation.get("parameters", [])
                if param.get("in") == "query"}

    def validator(self, schema: dict[str, Any], *, strict: bool = False) -> Validator:
        """A JSON-schema validator for ``schema``, whose ``$ref`` resolve inside the document."""
        data = self.strict_document if strict else self.published_document
        validator: Validator = OAS30Validator({**schema, "components": data["components"]})
        return validator

    def component_validator(self, name: str, *, strict: bool = False) -> Validator:
        """A validator for one component schema (``#/components/schemas/<name>``)."""
        return self.validator({"$ref": f"#/components/schemas/{name}"}, strict=strict)

    def request_problems(self, request: Request, body: bytes) -> list[Problem]:
        with warnings.catch_warnings():
            # openapi-core cannot check oauth2 schemes and says so on every call; a sandbox
            # checks its bearer tokens itself.
            warnings.simplefilter("ignore", UserWarning)
            errors = list(self._requests.iter_request_errors(
                StarletteOpenAPIRequest(request, body)))
        return _problems(errors)

    def response_problems(self, request: Request, body: bytes,
                          response: Response) -> list[Problem]:
        """What is wrong with an answer; a status the operation does not list is not checked
        here (gateways answer 401, 429, 503 for every operation)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            errors = list(self._responses.iter_response_errors(
                StarletteOpenAPIRequest(request, body), StarletteOpenAPIResponse(response)))
        return _problems([e for e in errors if not isinstance(e, ResponseNotFound)])
