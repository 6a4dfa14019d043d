"""What every conformance suite shares: reasoned opt-outs, checked when the subclass is made.

A plugin opts out of a standard test only with a reason::

    class TestAcmeConformance(ChannelConformance):
        conformance_opt_outs = {"test_set_listing_quantity_to_zero": "Acme ends listings at 0"}

The pytest plugin (:mod:`ordersync.testing.pytest_plugin`) turns each opt-out into a skip with
that reason. An opt-out that names no test of the suite, or gives no reason, fails the class at
definition time, so a renamed test can never be skipped silently.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from ordersync.errors import PluginError
from ordersync.platform import WebhookEvent
from ordersync.sandbox import Sandbox

#: The marker every conformance test carries (``pytest -m "not conformance"`` leaves them out).
MARKER = "conformance"


class Conformance:
    """Base of :class:`ChannelConformance` and :class:`StoreConformance`."""

    #: ``{"test_name": "reason why this plugin cannot pass it"}``.
    conformance_opt_outs: ClassVar[dict[str, str]] = {}

    # Every test is async; marking them lets plugins whose pytest-asyncio runs in strict mode
    # use the suite too (in auto mode the mark changes nothing).
    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [
        pytest.mark.asyncio, getattr(pytest.mark, MARKER),
    ]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_opt_outs(cls)

    @classmethod
    def conformance_tests(cls) -> list[str]:
        """The names of every test this class runs."""
        return sorted(
            name for name in dir(cls)
            if name.startswith("test_") and callable(getattr(cls, name))
        )


def check_opt_outs(cls: type[Conformance]) -> None:
    """Raise :class:`PluginError` unless every opt-out of ``cls`` names a test and a reason."""
    opt_outs: object = cls.__dict__.get("conformance_opt_outs", {})
    if not isinstance(opt_outs, dict):
        msg = (f"{cls.__qualname__}.conformance_opt_outs must be a dict "
               f"{{'test_name': 'reason'}}, not {type(opt_outs).__name__}")
        raise PluginError(msg)
    known = set(cls.conformance_tests())
    for name, reason in opt_outs.items():
        if name not in known:
            msg = (f"{cls.__qualname__}.conformance_opt_outs names unknown test {name!r}; "
                   f"the tests of this suite are: {', '.join(sorted(known))}")
            raise PluginError(msg)
        if not isinstance(reason, str) or not reason.strip():
            msg = (f"{cls.__qualname__}.conformance_opt_outs[{name!r}] needs a reason: "
                   "say why the plugin cannot pass this test")
            raise PluginError(msg)


def opt_out_reason(cls: type[Any] | None, test_name: str) -> str | None:
    """The reason ``cls`` gives for skipping ``test_name``, or None if it runs the test."""
    if cls is None or not issubclass(cls, Conformance):
        return None
    for klass in cls.__mro__:  # an opt-out in a base class is inherited
        reason = klass.__dict__.get("conformance_opt_outs", {}).get(test_name)
        if reason:
            return str(reason)
    return None


def requires(capability_declared: bool, reason: str) -> None:
    """Skip the running test unless the platform declares the capability it checks."""
    if not capability_declared:
        pytest.skip(reason)


def undeclared_methods(cls: type[Any], base: type[Any], promises: dict[str, str]) -> list[str]:
    """The capabilities ``cls`` declares whose method (``promises``: capability -> method) it
    leaves as ``base`` has it, i.e. not implemented. A capability this version of the core does
    not know is not declared."""
    declared = cls.capabilities
    return [f"{capability} (needs {method})" for capability, method in promises.items()
            if getattr(declared, capability, False)
            and getattr(cls, method, None) is getattr(base, method, None)]


def webhook_event(instance: Any, sandbox: Sandbox, order_id: str, *,
                  forged: bool = False) -> WebhookEvent:
    """What ``instance.parse_webhook`` makes of the sandbox's delivery about ``order_id``, with
    the headers lower-cased as the daemon's webhook server passes them."""
    try:
        delivery = sandbox.webhook_delivery(order_id, forged=forged)
    except NotImplementedError as exc:
        msg = (f"the type declares webhooks, so its sandbox must make deliveries: implement "
               f"{type(sandbox).__name__}.webhook_delivery ({exc})")
        raise AssertionError(msg) from exc
    headers = {key.lower(): value for key, value in delivery.headers.items()}
    event: WebhookEvent = instance.parse_webhook(headers, delivery.body)
    return event

