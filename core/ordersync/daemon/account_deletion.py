"""Account deletion notices at ``/webhooks/<channel>`` (see :mod:`ordersync.account_deletion`).

The platform's check of the URL (``GET``) is answered by the channel; a verified notice
(``POST``) removes the personal data of the user's orders on every channel of the same type
(one platform account buys on all of them) and is answered 204. Nothing a notice carries is
logged: only its id and the counts.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ordersync.account_deletion import AccountDeletionReceiver
from ordersync.errors import PlatformError
from ordersync.platform import WebhookSignatureError
from ordersync.state.privacy import forget_buyer
from ordersync.sync.runtime import Runtime

log = logging.getLogger("ordersync.webhooks")


async def receive(runtime: Runtime, name: str, channel: AccountDeletionReceiver,
                  request: Request, max_body: int) -> Response | None:
    """The answer to ``request`` if it is the channel's account deletion check or notice;
    None when it is something else (an order webhook)."""
    extra = {"channel": name}
    if request.method == "GET":
        try:
            answer = channel.webhook_challenge(dict(request.query_params))
        except ValueError as exc:
            log.error("webhook check of %s cannot be answered: %s", name, exc, extra=extra)
            return JSONResponse({"error": "the endpoint check cannot be answered"}, 500)
        if answer is None:
            return JSONResponse({"error": "nothing to answer"}, 404)
        log.info("webhook check of %s answered", name, extra=extra)
        return JSONResponse(answer)
    body = await request.body()
    if len(body) > max_body:
        return None  # (refused by the order webhook path, with its counts)
    headers = {key.lower(): value for key, value in request.headers.items()}
    try:
        notice = await channel.account_deletion(headers, body)
    except WebhookSignatureError as exc:
        log.warning("account deletion notice for %s rejected: %s (body not logged)", name, exc,
                    extra=extra)
        return JSONResponse({"error": "signature missing or wrong"}, 412)
    except ValueError as exc:
        log.warning("account deletion notice for %s: malformed (%d bytes): %s", name, len(body),
                    str(exc)[:300], extra=extra)
        return JSONResponse({"error": "malformed notice"}, 400)
    except PlatformError as exc:  # the platform sends it again later
        log.warning("account deletion notice for %s not verified: %s", name, exc, extra=extra)
        return JSONResponse({"error": "cannot verify the notice now"}, 500)
    if notice is None:
        return None
    kind = runtime.settings.channel_types[name].type_name
    same_type = [other for other, cls in runtime.settings.channel_types.items()
                 if cls.type_name == kind]
    # In a thread: the writes may wait for the database's lock (held by work on this loop).
    removed = await asyncio.to_thread(forget_buyer, runtime.engine, usernames=notice.accounts,
                                      channels=same_type)
    log.info("account deletion notice %s for %s: %s", notice.event_id, name, removed,
             extra={**extra, "event_id": notice.event_id})
    return Response(status_code=204)
