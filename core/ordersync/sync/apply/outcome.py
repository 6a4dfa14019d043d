"""What applying an effect yields (:class:`Applied`), what a round of applying counted
(:class:`ApplyStats`), and how often an effect is tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from ordersync.hookcalls import Created
from ordersync.models import StoreOrder

#: Retriable failures of one effect before it is parked as failed (``orders retry`` revives it).
MAX_ATTEMPTS = 8


@dataclass
class Applied:
    """What applying an effect changed: the store order it made, the variants whose stock moved."""

    store_order: StoreOrder | None = None
    moved_variants: list[str] = field(default_factory=list)
    #: An import: what it says of the order it was decided from (``None``: nothing).
    import_of: ImportOf | None = None


class ImportOf(BaseModel):
    """What an import says of the order it was decided from (``plan_import``)."""

    #: ``records.payload_digest`` of the order as stored with the decision.
    digest: str
    #: ``says_more_than_its_import`` of that order.
    says_more: bool


@dataclass
class ApplyStats:
    done: int = 0
    failed: int = 0
    retry: int = 0
    #: Channel -> the fatal error that put it in error while applying (kept, not cleared, when
    #: the pass ends: ``ordersync status`` must show it).
    in_error: dict[str, str] = field(default_factory=dict)
    #: Imports recorded done, for ``ordersync_store_order_created`` once their transaction
    #: ended (collected only when a plugin implements it).
    created: list[Created] = field(default_factory=list)
