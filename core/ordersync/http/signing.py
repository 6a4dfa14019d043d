"""Request signing: a hook that :class:`~ordersync.http.PlatformHttp` runs on every attempt.

A platform that signs its requests (TikTok Shop's HMAC over path, sorted query and body;
Walmart's correlation headers) gives the client a :class:`Signer`. It is called with the
request as it will be sent, once per attempt, so that a timestamp or nonce is fresh on each
retry; it edits the request in place (a query parameter through ``request.url``, a header
through ``request.headers``). Credentials it needs live in the signer, never in logs.

:func:`hmac_sha256` and :func:`verify_hmac_sha256` are the same primitive for what platforms
sign towards us: webhook deliveries (Shopify's base64 ``X-Shopify-Hmac-Sha256``, TikTok's hex
``Authorization``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Collection
from typing import Literal

import httpx

#: Signs one attempt of a request, in place.
Signer = Callable[[httpx.Request], None]

Encoding = Literal["hex", "base64"]


def hmac_sha256(secret: bytes, message: bytes, *, encoding: Encoding = "hex") -> str:
    """HMAC-SHA256 of ``message`` keyed with ``secret``, as lowercase hex or base64."""
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def verify_hmac_sha256(secret: bytes, message: bytes, given: str | None, *,
                       encoding: Encoding = "hex") -> bool:
    """True when ``given`` is the HMAC-SHA256 of ``message`` under ``secret`` (compared in
    constant time); False for a missing, malformed or wrong signature, or an empty secret."""
    if not given or not secret:
        return False
    try:
        raw = (bytes.fromhex(given.strip()) if encoding == "hex"
               else base64.b64decode(given.strip(), validate=True))
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(secret, message, hashlib.sha256).digest(), raw)


class HmacQuerySigner:
    """HMAC-SHA256 over ``secret + path + sorted query (key+value) + body + secret``, hex, put
    in the query parameter ``param``: the scheme of TikTok Shop's Open API.

    :param secret: the app secret (the HMAC key, and the wrapper of the signed text).
    :param param: the query parameter that carries the signature.
    :param exclude: query parameters left out of the signed text (besides ``param``).
    :param add: a callable giving query parameters to set before signing on each attempt
        (e.g. ``{"timestamp": str(int(time.time()))}``).
    """

    def __init__(self, secret: str, *, param: str = "sign",
                 exclude: Collection[str] = ("access_token",),
                 add: Callable[[], dict[str, str]] | None = None) -> None:
        self._secret = secret.encode()
        self.param = param
        self.exclude = frozenset(exclude) | {param}
        self.add = add

    def string_to_sign(self, request: httpx.Request) -> bytes:
        params = sorted((k, v) for k, v in request.url.params.multi_items()
                        if k not in self.exclude)
        text = request.url.path.encode() + b"".join(f"{k}{v}".encode() for k, v in params)
        return self._secret + text + request.content + self._secret

    def __call__(self, request: httpx.Request) -> None:
        if self.add is not None:
            request.url = request.url.copy_merge_params(self.add())
        sign = hmac_sha256(self._secret, self.string_to_sign(request))
        request.url = request.url.copy_set_param(self.param, sign)
