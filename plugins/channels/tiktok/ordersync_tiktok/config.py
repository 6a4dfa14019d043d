"""The ``channels.<name>`` section of a TikTok Shop channel in ``ordersync.yaml``."""

from __future__ import annotations

from ordersync.http import BaseUrl
from ordersync.platform import ChannelConfig, Secret
from pydantic import Field

PRODUCTION_API = "https://open-api.tiktokglobalshop.com"
PRODUCTION_AUTH = "https://auth.tiktok-shops.com"
AUTHORIZE_URL = "https://services.tiktokshop.com/open/authorize"


class TikTokConfig(ChannelConfig):
    """One TikTok Shop (one shop of a seller), reached through one Partner Center app."""

    app_key: str = Field(min_length=1, description="The app's App key (Partner Center)")
    app_secret: Secret = Field(description="The app's App secret: signs every request")
    shop_cipher: str = Field(
        min_length=1, description="The shop's cipher (GET /authorization/202309/shops)")
    refresh_token: Secret | None = Field(
        default=None,
        description="The seller's refresh token from the authorisation; ordersync keeps the "
                    "newer ones TikTok hands out in its token store. Leave it out and run "
                    "`ordersync auth <channel>` to authorise through TikTok's page instead")
    service_id: str | None = Field(
        default=None, description="The app's Service ID (Partner Center), for `ordersync auth`")
    authorize_url: BaseUrl = Field(
        default=AUTHORIZE_URL, description="The seller authorisation page (US shops: "
                                           "https://services.tiktokshops.us/open/authorize)")
    warehouse_id: str | None = Field(
        default=None, min_length=1,
        description="The warehouse whose stock ordersync sets, for SKUs stocked in several "
                    "warehouses (one warehouse: not needed)")
    api_base: BaseUrl = Field(default=PRODUCTION_API, description="Open API root")
    auth_base: BaseUrl = Field(default=PRODUCTION_AUTH, description="Token endpoint root")
