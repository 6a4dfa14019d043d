"""OAuth for eBay: short-lived user access tokens minted from the seller's refresh token.

eBay's user access token lives about two hours; the refresh token about eighteen months. The
core's :class:`~ordersync.http.oauth.RefreshedTokens` keeps the access token in the token store
and replaces it five minutes before it expires, or at once when eBay answers 401. What is
eBay's here: the token endpoint, the grant, and what a refusal tells the operator to do (a
refresh token eBay no longer honours is a :class:`~ordersync.errors.FatalPlatformError` that
asks to re-authorise); no message ever carries a token or the client secret.
"""

from __future__ import annotations

from ordersync.connect import grant_key
from ordersync.errors import FatalPlatformError, PlatformError
from ordersync.http.oauth import RefreshedTokens, oauth_error
from ordersync.platform import Context

from ordersync_ebay.config import EbayConfig

TOKEN_PATH = "/identity/v1/oauth2/token"
PLATFORM = "ebay"


class EbayTokens(RefreshedTokens):
    """Hands out a valid access token for one channel, minting a new one when needed."""

    def __init__(self, channel: str, config: EbayConfig, context: Context) -> None:
        self.channel = channel
        self.config = config
        # ``ordersync auth``'s grant, in the token store, wins over the configured token.
        refresh_token = config.refresh_token.get_secret_value() if config.refresh_token else ""
        scopes = " ".join(config.scopes)
        super().__init__(
            # Token calls go through their own client: no bearer auth on them.
            context.http(PLATFORM, config.api_base, classify=oauth_error), context.tokens,
            key=f"ebay:{channel}", token_url=TOKEN_PATH,
            form={"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scopes},
            client_auth=(config.client_id, config.client_secret.get_secret_value()),
            credentials=(config.client_id, refresh_token, config.api_base, scopes),
            grant_key=grant_key(channel),
        )

    def refusal(self, exc: PlatformError) -> FatalPlatformError:
        """eBay's OAuth error as a message that says what the operator must do."""
        error = exc.code
        where = f"channels.{self.channel}"
        if error == "invalid_grant":
            reason = (
                f"eBay refused the refresh token of channel {self.channel!r} (invalid_grant: "
                "it was revoked, has expired after about 18 months, or was issued to another "
                "application). Re-authorise ordersync for this eBay account (sign in through the "
                "application's consent page: `ordersync auth "
                f"{self.channel}`), or update {where}.refresh_token."
            )
        elif error == "invalid_client":
            reason = (
                f"eBay refused the application keys of channel {self.channel!r} "
                f"(invalid_client): check {where}.client_id and {where}.client_secret "
                "(production and sandbox keys differ, and must match api_base)."
            )
        elif error == "invalid_scope":
            reason = (
                f"the refresh token of channel {self.channel!r} was not granted the scopes asked "
                f"for ({', '.join(self.config.scopes)}): re-authorise with these scopes, or "
                f"narrow {where}.scopes."
            )
        else:
            reason = (f"eBay refused to refresh the access token of channel {self.channel!r} "
                      f"({exc.reason})")
        return FatalPlatformError(PLATFORM, self.operation, reason, status=exc.status, code=error)
