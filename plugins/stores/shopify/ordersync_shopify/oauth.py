"""``ordersync auth main_store`` for Shopify: the authorization-code grant of a non-embedded
app (docs/platforms/shopify.md, "Connecting a shop").

The seller approves the app at ``https://{shop}/admin/oauth/authorize``; Shopify redirects
with ``code``, ``hmac``, ``host``, ``shop``, ``state`` and ``timestamp``. The redirect is used
only if its ``hmac`` is the hex HMAC-SHA256, under the app's client secret, of the other
parameters sorted by name and joined as ``name=value&...``, its ``state`` is the one sent, and
its ``shop`` is the configured shop. The code then buys an offline access token at
``POST https://{shop}/admin/oauth/access_token``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ordersync.connect import AuthorizationError, AuthorizationFlow, Grant
from ordersync.errors import PlatformError
from ordersync.http import CodeGrantAnswer, hmac_sha256, redeem_code, verify_hmac_sha256
from ordersync.platform import Context

from ordersync_shopify.client import PLATFORM

if TYPE_CHECKING:
    from ordersync_shopify.store import ShopifyConfig

AUTHORIZE_PATH = "/admin/oauth/authorize"
ACCESS_TOKEN_PATH = "/admin/oauth/access_token"


def signed_query(params: Mapping[str, str]) -> bytes:
    """What Shopify signs in a redirect: every parameter but ``hmac``, sorted, ``k=v&k=v``."""
    return "&".join(f"{key}={value}" for key, value in sorted(params.items())
                    if key != "hmac").encode()


def sign_query(secret: str, params: Mapping[str, str]) -> str:
    """The ``hmac`` of a redirect with ``params`` (the sandbox signs with it)."""
    return hmac_sha256(secret.encode(), signed_query(params))


class ShopifyAuthorization(AuthorizationFlow):
    """The authorization-code grant of the main store's shop."""

    setup_hint = ("Shopify redirects only to a URL in the app's allowed redirection URLs: add "
                  "the listener's URL there (Dev Dashboard, the app's version settings).")

    def __init__(self, config: ShopifyConfig, context: Context) -> None:
        self.config = config
        self.context = context
        self.base = (config.base_url or f"https://{config.shop}").rstrip("/")

    def _client(self) -> tuple[str, str]:
        if not self.config.client_id or self.config.webhook_secret is None:
            msg = ("main_store.client_id and main_store.webhook_secret (the app's client "
                   "secret) are needed to authorise the app")
            raise AuthorizationError(msg)
        return self.config.client_id, self.config.webhook_secret.get_secret_value()

    def consent_url(self, state: str, redirect_uri: str) -> str:
        client_id, _ = self._client()
        query = urlencode({"client_id": client_id, "scope": ",".join(self.config.scopes),
                           "redirect_uri": redirect_uri, "state": state})
        return f"{self.base}{AUTHORIZE_PATH}?{query}"

    def code_from_callback(self, params: Mapping[str, str], state: str) -> str:
        _, secret = self._client()
        if not verify_hmac_sha256(secret.encode(), signed_query(params), params.get("hmac")):
            msg = ("the redirect's hmac is missing or wrong: it was not sent by Shopify for "
                   "this app (check main_store.webhook_secret, the app's client secret)")
            raise AuthorizationError(msg)
        if params.get("shop", "").lower() != self.config.shop:
            msg = (f"the redirect is for the shop {params.get('shop')!r}, not "
                   f"main_store.shop {self.config.shop!r}")
            raise AuthorizationError(msg)
        return super().code_from_callback(params, state)

    async def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        client_id, secret = self._client()

        def refused(exc: PlatformError) -> str:
            return (f"Shopify refused the authorization code ({exc.reason}); a code works once: "
                    "run `ordersync auth main_store` again")

        answer = await redeem_code(
            self.context.http(PLATFORM, self.base, max_attempts=1), "POST", ACCESS_TOKEN_PATH,
            refused=refused, answer=CodeGrantAnswer,
            unreadable="Shopify's token endpoint answered without an access token",
            json={"client_id": client_id, "client_secret": secret, "code": code},
            headers={"Accept": "application/json"})
        return answer.grant(separator=",")
