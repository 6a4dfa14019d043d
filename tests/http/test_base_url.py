"""A platform's URL setting is an http(s) URL with a host, kept without its trailing slash."""

from __future__ import annotations

import pytest
from ordersync.http import BaseUrl, base_url
from pydantic import BaseModel, ValidationError


class Settings(BaseModel):
    api_base: BaseUrl


@pytest.mark.parametrize(("given", "kept"), [
    ("https://api.ebay.com/", "https://api.ebay.com"),
    (" http://127.0.0.1:8123 ", "http://127.0.0.1:8123"),
    ("https://auth.example/oauth2/authorize", "https://auth.example/oauth2/authorize"),
])
def test_an_http_url_is_kept_without_its_trailing_slash(given: str, kept: str) -> None:
    assert base_url(given) == kept
    assert Settings(api_base=given).api_base == kept


@pytest.mark.parametrize("given", ["api.ebay.com", "ftp://files.example", "https://", ""])
def test_anything_else_is_refused_saying_what_is_expected(given: str) -> None:
    with pytest.raises(ValidationError, match="must be an http"):
        Settings(api_base=given)
