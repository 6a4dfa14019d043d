"""The ``channels.<name>`` section of an eBay channel in ``ordersync.yaml``."""

from __future__ import annotations

import re
from typing import Any

from ordersync.http import BaseUrl
from ordersync.platform import ChannelConfig, Secret
from pydantic import BaseModel, ConfigDict, Field, field_validator

PRODUCTION_API = "https://api.ebay.com"
SANDBOX_API = "https://api.sandbox.ebay.com"

#: What ordersync needs: read orders and upload tracking (fulfillment), set quantities
#: (inventory). The refresh token must have been granted at least these.
DEFAULT_SCOPES: tuple[str, ...] = (
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
)


class AccountDeletionConfig(BaseModel):
    """``channels.<name>.account_deletion``: what eBay's check of the notification endpoint
    needs (``ordersync_ebay.account_deletion``)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(
        description="The notification endpoint URL exactly as entered in eBay's developer "
                    "portal (https://.../webhooks/<channel>)")
    verification_token: Secret = Field(
        description="The verification token entered there (32 to 80 characters: letters, "
                    "digits, _ and -)")

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            msg = f"must be the endpoint's full URL (https://...), got {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("verification_token")
    @classmethod
    def _token_shape(cls, value: Any) -> Any:
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
        if not re.fullmatch(r"[A-Za-z0-9_-]{32,80}", text):
            msg = "must be 32 to 80 letters, digits, underscores or hyphens (eBay's rule)"
            raise ValueError(msg)
        return value


class EbayConfig(ChannelConfig):
    """One eBay seller account on one marketplace."""

    client_id: str = Field(min_length=1, description="The application's App ID (Client ID)")
    client_secret: Secret = Field(description="The application's Cert ID (Client Secret)")
    refresh_token: Secret | None = Field(
        default=None,
        description="The seller's OAuth refresh token (valid about 18 months); leave it out "
                    "and run `ordersync auth <channel>` to keep one in the token store instead",
    )
    ru_name: str | None = Field(
        default=None, description="The application's RuName (eBay Redirect URL name), for "
                                  "`ordersync auth`")
    marketplace_id: str = Field(
        default="EBAY_GB", pattern=r"^EBAY_[A-Z_]+$",
        description="The eBay marketplace of the listings, e.g. EBAY_GB, EBAY_US, EBAY_DE",
    )
    api_base: BaseUrl = Field(
        default=PRODUCTION_API,
        description=f"API root: {PRODUCTION_API}, or {SANDBOX_API} for eBay's sandbox",
    )
    auth_base: str | None = Field(
        default=None, description="Where eBay's consent page is (default: auth.ebay.com, or "
                                  "auth.sandbox.ebay.com with the sandbox API root)")
    account_deletion: AccountDeletionConfig | None = Field(
        default=None, description="Marketplace Account Deletion notifications received at "
        "/webhooks/<channel> (needed to answer eBay's check of the endpoint)")
    scopes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SCOPES), min_length=1,
        description="OAuth scopes asked for on each token refresh (a subset of those granted)",
    )
