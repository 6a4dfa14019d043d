"""The type of a platform's URL settings (API roots, token endpoints, consent pages): an http(s)
URL, without the trailing slash, so that ``base + path`` is what it says."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator


def base_url(value: str) -> str:
    """``value`` without surrounding spaces and trailing slashes.

    :raises ValueError: it is not an http or https URL with a host.
    """
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = f"must be an http(s) URL, got {value!r}"
        raise ValueError(msg)
    return url


#: A configuration field holding an API root or endpoint URL (validated by :func:`base_url`).
BaseUrl = Annotated[str, AfterValidator(base_url)]
