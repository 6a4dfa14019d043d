"""Stock adjustments made without a store order (Import Orders off), each made at most once.

A store's stock write carries no reference of ours, so a crash between the write and its
record in the ledger would leave the adjustment pending, and applying it again would take the
stock twice. Before it writes, the applier records its **intent** in the ledger row, in its
own committed transaction: the variant's quantity read just before (``intent.before``) and
the effect's key as the adjustment's reference. An attempt that finds an intent checks the
store first:

- the store holds ``before``: the write never landed; it is made now;
- the store holds ``before + quantity``: it landed; it is recorded, not made again;
- anything else (other sales moved the variant meanwhile): it cannot be told apart, so it
  is taken as made (never twice) and the log says to check the variant's stock.

A store that refused the write (not a time-out, after which the write may have landed) made
nothing: its intent is dropped, and the next attempt starts afresh.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from sqlmodel import col

from ordersync.errors import RetriableError
from ordersync.state import ledger
from ordersync.state.db import session_scope
from ordersync.state.ledger import EffectRow
from ordersync.state.tables import Effect, EffectStatus
from ordersync.sync.apply.outcome import Applied
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.apply")

INTENT = "intent"


async def adjust_stock(runtime: Runtime, effect: EffectRow) -> Applied:
    """Apply an ``adjust_stock`` effect once (see the module docstring)."""
    payload = ledger.payload(effect)
    variant = str(payload["store_variant_id"])
    delta = int(payload["quantity"])
    applied = Applied(moved_variants=[variant])
    intent = payload.get(INTENT)
    holds = await _stock(runtime, variant)
    if intent is not None:
        before = int(intent["before"])
        if holds == before + delta:
            log.info("stock adjustment %s (%+d of %s) was made before its record: recorded now",
                     effect.key, delta, variant)
            return applied
        if holds != before:
            log.warning("stock adjustment %s (%+d of %s): an earlier attempt may have made it "
                        "(the store held %d before it, holds %d now, and other moves happened "
                        "meanwhile); taken as made, never made twice: check the variant's "
                        "stock in the main store", effect.key, delta, variant, before, holds)
            return applied
    _write_intent(runtime, effect, {**payload, INTENT: {"before": holds,
                                                        "reference": effect.key}})
    try:
        await runtime.store.adjust_stock(variant, delta)
    except RetriableError:
        raise  # (it may have landed: the intent stays for the next attempt to check)
    except Exception:
        _write_intent(runtime, effect, {k: v for k, v in payload.items() if k != INTENT})
        raise
    return applied


async def _stock(runtime: Runtime, variant: str) -> int:
    return (await runtime.store.get_stock([variant])).get(variant, 0)


def _write_intent(runtime: Runtime, effect: EffectRow, payload: dict[str, object]) -> None:
    """Store ``payload`` (with or without its intent) on the effect this worker holds."""
    text = json.dumps(payload, sort_keys=True, default=str)
    with session_scope(runtime.engine) as session:
        session.execute(sa.update(Effect).where(
            col(Effect.id) == effect.id, col(Effect.claimed_by) == runtime.worker_id,
            col(Effect.status) == EffectStatus.PENDING.value,
        ).values(payload=text))
    effect.payload = text
