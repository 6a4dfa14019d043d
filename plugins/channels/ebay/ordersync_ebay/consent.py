"""``ordersync auth`` for eBay: the seller's consent, then the authorization-code grant.

eBay's ``redirect_uri`` is the application's RuName (its "eBay Redirect URL name"), not a URL:
eBay sends the browser to the accept URL registered for that RuName in the developer portal,
with ``code`` and ``state``. The code buys a user access token (about two hours) and a refresh
token (``refresh_token_expires_in``, about 18 months), which the token store keeps; the
channel's :class:`~ordersync_ebay.auth.EbayTokens` refreshes with it from then on. Sources:
docs/platforms/ebay.md, "Connecting an account".
"""

from __future__ import annotations

from urllib.parse import urlencode

from ordersync.connect import AuthorizationError, AuthorizationFlow, Grant
from ordersync.errors import PlatformError
from ordersync.http import CodeGrantAnswer, oauth_error, redeem_code
from ordersync.platform import Context

from ordersync_ebay.auth import PLATFORM, TOKEN_PATH
from ordersync_ebay.config import PRODUCTION_API, SANDBOX_API, EbayConfig

#: eBay's Grant Application Access pages, by API root.
CONSENT_HOSTS = {PRODUCTION_API: "https://auth.ebay.com",
                 SANDBOX_API: "https://auth.sandbox.ebay.com"}
AUTHORIZE_PATH = "/oauth2/authorize"


class _GrantAnswer(CodeGrantAnswer):
    expires_in: int
    refresh_token: str
    refresh_token_expires_in: int


class EbayAuthorization(AuthorizationFlow):
    """The consent and code grant of one eBay channel."""

    def __init__(self, channel: str, config: EbayConfig, context: Context) -> None:
        self.channel = channel
        self.config = config
        self.context = context
        self.setup_hint = (
            f"eBay sends the browser to the accept URL of the RuName "
            f"(channels.{channel}.ru_name); set it to the listener's URL in eBay's developer "
            "portal (User Tokens, \"Your auth accepted URL\"), or paste the URL eBay lands on.")

    def redirect_uri(self, listener_url: str) -> str:
        if not self.config.ru_name:
            msg = (f"channels.{self.channel}.ru_name is not set: give the RuName (eBay Redirect "
                   "URL name) of the application, from eBay's developer portal, User Tokens")
            raise AuthorizationError(msg)
        return self.config.ru_name

    def consent_url(self, state: str, redirect_uri: str) -> str:
        host = self.config.auth_base or CONSENT_HOSTS.get(self.config.api_base,
                                                          self.config.api_base)
        query = urlencode({"client_id": self.config.client_id, "response_type": "code",
                           "redirect_uri": redirect_uri, "scope": " ".join(self.config.scopes),
                           "state": state})
        return f"{host}{AUTHORIZE_PATH}?{query}"

    async def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        where = f"channels.{self.channel}"

        def refused(exc: PlatformError) -> str:
            hint = {"invalid_client": f"; check {where}.client_id and {where}.client_secret",
                    "invalid_grant": "; the code was used, expired (5 minutes) or was issued "
                                     "for another RuName: run `ordersync auth` again"}.get(
                                         exc.code or "", "")
            return f"eBay refused the authorization code ({exc.reason}){hint}"

        answer = await redeem_code(
            self.context.http(PLATFORM, self.config.api_base, classify=oauth_error,
                              max_attempts=1),
            "POST", TOKEN_PATH, refused=refused, answer=_GrantAnswer,
            unreadable="eBay's token endpoint answered without the tokens of the authorization",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(self.config.client_id, self.config.client_secret.get_secret_value()),
            headers={"Accept": "application/json"})
        return answer.grant(scopes=self.config.scopes)
