"""The ``channels.<name>`` section of an eBay channel in ``ordersync.yaml``."""

from __future__ import annotations

from ordersync.platform import ChannelConfig, Secret
from pydantic import Field, field_validator

PRODUCTION_API = "https://api.ebay.com"
SANDBOX_API = "https://api.sandbox.ebay.com"

#: What ordersync needs: read orders and upload tracking (fulfillment), set quantities
#: (inventory). The refresh token must have been granted at least these.
DEFAULT_SCOPES: tuple[str, ...] = (
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
)


class EbayConfig(ChannelConfig):
    """One eBay seller account on one marketplace."""

    client_id: str = Field(min_length=1, description="The application's App ID (Client ID)")
    client_secret: Secret = Field(description="The application's Cert ID (Client Secret)")
    refresh_token: Secret = Field(
        description="The seller's OAuth refresh token (valid about 18 months)"
    )
    marketplace_id: str = Field(
        default="EBAY_GB", pattern=r"^EBAY_[A-Z_]+$",
        description="The eBay marketplace of the listings, e.g. EBAY_GB, EBAY_US, EBAY_DE",
    )
    api_base: str = Field(
        default=PRODUCTION_API,
        description=f"API root: {PRODUCTION_API}, or {SANDBOX_API} for eBay's sandbox",
    )
    scopes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SCOPES), min_length=1,
        description="OAuth scopes asked for on each token refresh (a subset of those granted)",
    )

    @field_validator("api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = f"api_base must be an http(s) URL, got {value!r}"
            raise ValueError(msg)
        return value.rstrip("/")
