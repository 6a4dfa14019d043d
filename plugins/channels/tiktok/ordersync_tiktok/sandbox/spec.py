"""TikTok Shop's OpenAPI document (rebuilt from TikTok's official SDK) as the sandbox's referee
(:mod:`ordersync.sandbox.openapi`).

``ordersync_tiktok/spec/tiktok_shop_202309.json`` holds the operations the channel uses, cut
from the whole document by ``spec/cut_spec.py`` (see ``SOURCES.md``). Requests are checked
strictly (a body field the document does not name is refused); answers and seeded records as
published. The document leaves out the query parameters TikTok's SDK adds to every call
(``app_key``, ``timestamp``, ``sign``; :data:`COMMON_QUERY`), so the sandbox allows those beside
each operation's own.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ordersync.sandbox.openapi import OpenApiSpec, Validator

FILE = "tiktok_shop_202309.json"
#: Query parameters of every signed call, which the operations do not declare.
COMMON_QUERY = frozenset({"app_key", "timestamp", "sign"})


@cache
def document() -> dict[str, Any]:
    text = resources.files("ordersync_tiktok").joinpath("spec", FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def spec() -> OpenApiSpec:
    return OpenApiSpec(document(), "")


@cache
def schema_validator(name: str) -> Validator:
    """A validator for one component schema, as published."""
    return spec().component_validator(name)


@cache
def envelope_validator() -> Validator:
    """TikTok's envelope of an error answer: ``{code, message, data, request_id}``."""
    return spec().validator({
        "type": "object",
        "properties": {"code": {"type": "integer", "minimum": 1},
                       "message": {"type": "string"}, "data": {"nullable": True},
                       "request_id": {"type": "string"}},
        "required": ["code", "message", "request_id"],
        "additionalProperties": False,
    })
