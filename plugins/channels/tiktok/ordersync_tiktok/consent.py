"""``ordersync auth`` for TikTok Shop: the seller authorises the app, then its auth code buys the
first tokens.

The authorisation page is ``{authorize_url}?service_id=<the app's Service ID>&state=<random>``;
TikTok sends the browser to the redirect URL registered for the app in Partner Center (not a
parameter of the request) with ``code`` and ``state``. ``GET {auth_base}/api/v2/token/get``
with ``app_key``, ``app_secret``, ``auth_code`` and ``grant_type=authorized_code`` answers
TikTok's envelope whose ``data`` has the access and refresh tokens and their expiry as Unix
times. The refresh token goes to the token store; :class:`~ordersync_tiktok.auth.TikTokTokens`
refreshes with it (and keeps the ones TikTok rotates in). Sources:
docs/platforms/tiktok.md, "Connecting a shop".
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from ordersync.connect import AuthorizationError, AuthorizationFlow, Grant
from ordersync.errors import PlatformError
from ordersync.http import redeem_code, utc_now
from ordersync.platform import Context

from ordersync_tiktok.auth import PLATFORM, TOKEN_GET_PATH, TokenAnswer, token_error
from ordersync_tiktok.config import TikTokConfig


class TikTokAuthorization(AuthorizationFlow):
    """The seller authorisation of one TikTok Shop channel."""

    def __init__(self, channel: str, config: TikTokConfig, context: Context) -> None:
        self.channel = channel
        self.config = config
        self.context = context
        self.setup_hint = ("TikTok Shop sends the browser to the redirect URL registered for the "
                           "app in Partner Center (App & Service, the app's settings): set it to "
                           "the listener's URL, or paste the URL TikTok lands on.")

    def consent_url(self, state: str, redirect_uri: str) -> str:
        if not self.config.service_id:
            msg = (f"channels.{self.channel}.service_id is not set: give the app's Service ID "
                   "(Partner Center, App & Service)")
            raise AuthorizationError(msg)
        query = urlencode({"service_id": self.config.service_id, "state": state})
        return f"{self.config.authorize_url}?{query}"

    async def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        where = f"channels.{self.channel}"

        def refused(exc: PlatformError) -> str:
            return (f"TikTok Shop refused the auth code ({exc.reason}): it was used or has "
                    f"expired (run `ordersync auth` again), or {where}.app_key and "
                    f"{where}.app_secret are not the app's")

        unreadable = "TikTok Shop's token endpoint answered without tokens"
        data = (await redeem_code(
            self.context.http(PLATFORM, self.config.auth_base, classify=token_error,
                              max_attempts=1),
            "GET", TOKEN_GET_PATH, refused=refused, unreadable=unreadable, answer=TokenAnswer,
            params={"app_key": self.config.app_key,
                    "app_secret": self.config.app_secret.get_secret_value(),
                    "auth_code": code, "grant_type": "authorized_code"})).data
        if data is None:
            raise AuthorizationError(unreadable)
        return Grant(
            access_token=data.access_token,
            access_expires_at=datetime.fromtimestamp(data.access_token_expire_in, UTC),
            refresh_token=data.refresh_token,
            refresh_expires_at=(datetime.fromtimestamp(data.refresh_token_expire_in, UTC)
                                if data.refresh_token_expire_in else None),
            authorized_at=utc_now())
