"""The order-sync options of one channel (``channels.<name>.order_sync`` in ``ordersync.yaml``).

One field per option of the product reference, with the reference's defaults (everything off).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaxOptions(_Options):
    custom_rate: bool = Field(
        default=False, description="Custom Tax Rate: separate tax from the channel's total"
    )
    rate: Decimal | None = Field(
        default=None, ge=0, le=100, description="Tax Rate in percent (GST/VAT), e.g. 20"
    )
    label: str | None = Field(default=None, min_length=1, description="Tax Label")
    shipping_tax: bool = Field(default=False, description="Add Shipping Tax")
    import_without_tax: bool = Field(default=False, description="Import Orders Without Tax")

    @model_validator(mode="after")
    def _rate_needed(self) -> TaxOptions:
        if self.custom_rate and self.rate is None:
            msg = "rate: custom_rate is on, so a tax rate in percent is needed (e.g. rate: 20)"
            raise ValueError(msg)
        return self


class EmailOptions(_Options):
    order_receipt: bool = Field(default=False, description="Send the buyer the order receipt")
    fulfillment_receipt: bool = Field(default=False, description="Send the shipping confirmation")
    marketing: bool = Field(default=False, description="Buyer accepts marketing emails")
    customer_notifications: bool = Field(
        default=False, description="WooCommerce only: store emails the customer on updates"
    )
    disable_new_order_notifications: bool = Field(
        default=False, description="WooCommerce only: no 'new order' email to the seller"
    )


class AlertOptions(_Options):
    import_failure: bool = Field(default=False, description="Order Import Failure alerts")
    unlinked_products: bool = Field(default=False, description="Unlinked Product alerts")


class OrderSyncOptions(_Options):
    import_orders: bool = Field(default=False, description="Import Orders to Main Store")
    import_unlinked: bool = Field(
        default=False, description="Import Orders with Unlinked Products (as text lines)"
    )
    skip_unpaid: bool = Field(default=False, description="Skip Unpaid Orders")
    keep_order_number: bool = Field(default=False, description="Keep Order Number from Channel")
    order_number_prefix: str = Field(default="", max_length=20)
    tax: TaxOptions = Field(default_factory=TaxOptions)
    emails: EmailOptions = Field(default_factory=EmailOptions)
    alerts: AlertOptions = Field(default_factory=AlertOptions)
