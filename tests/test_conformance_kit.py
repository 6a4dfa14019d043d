"""The conformance kit: one class line runs the suite; opt-outs need a reason and a real test name;
capabilities decide which tests apply; a plugin that breaks the contract fails the suite.

Each scenario runs pytest on a small plugin test folder (pytester), the way a plugin author would.
The folder gets no ordersync configuration, so pytest-asyncio runs in its default strict mode:
the kit must work there too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from ordersync.errors import PluginError
from ordersync.models import OrderStatus
from ordersync.testing import ChannelConformance, StoreConformance
from ordersync.testing.builders import (
    make_draft,
    make_draft_line,
    make_line,
    make_order,
    make_product,
)

pytest_plugins = ["pytester"]

FILE_CHANNEL_CONFTEST = """
from ordersync.testing import sandbox_fixture
from ordersync_file_channel.sandbox import FileChannelSandbox

channel_sandbox = sandbox_fixture(FileChannelSandbox)
"""

FILE_STORE_CONFTEST = """
from ordersync.testing import sandbox_fixture
from ordersync_file_store.sandbox import FileStoreSandbox

store_sandbox = sandbox_fixture(FileStoreSandbox)
"""


#: Plugins the scenarios do not need (hypothesis alone adds seconds to each run).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
         "-o", "asyncio_default_fixture_loop_scope=function")


def run(
    pytester: pytest.Pytester, conftest: str, test_module: str, select: str | None = None
) -> pytest.RunResult:
    """Run pytest on a plugin's test folder; ``select`` (``-k``) keeps a scenario quick."""
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_plugin=test_module)
    return pytester.runpytest(*QUIET, "-rfEs", *(["-k", select] if select else []))


def test_one_class_line_runs_the_whole_channel_suite(pytester: pytest.Pytester) -> None:
    result = run(pytester, FILE_CHANNEL_CONFTEST, """
        from ordersync.testing import ChannelConformance

        class TestFileChannel(ChannelConformance):
            pass
    """)
    # Skipped: paid_orders_only and webhooks, which the file channel does not declare.
    result.assert_outcomes(passed=len(ChannelConformance.conformance_tests()) - 3, skipped=3)


def test_one_class_line_runs_the_whole_store_suite(pytester: pytest.Pytester) -> None:
    result = run(pytester, FILE_STORE_CONFTEST, """
        from ordersync.testing import StoreConformance

        class TestFileStore(StoreConformance):
            pass
    """)
    # Skipped: webhooks, which the file store does not declare, and the refusals of a store
    # without cancel_orders / refund_orders (it declares both).
    result.assert_outcomes(passed=len(StoreConformance.conformance_tests()) - 4, skipped=4)


def test_opt_out_naming_an_unknown_test_is_an_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, FILE_CHANNEL_CONFTEST, """
        from ordersync.testing import ChannelConformance

        class TestFileChannel(ChannelConformance):
            conformance_opt_outs = {"test_fetch_orders_quickly": "renamed long ago"}
    """)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*PluginError: TestFileChannel.conformance_opt_outs names unknown test "
        "'test_fetch_orders_quickly'*",
    ])


def test_opt_out_without_a_reason_is_an_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, FILE_CHANNEL_CONFTEST, """
        from ordersync.testing import ChannelConformance

        class TestFileChannel(ChannelConformance):
            conformance_opt_outs = {"test_set_listing_quantity_to_zero": "  "}
    """)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs a reason: say why the plugin cannot pass this test*"])


def test_opt_out_is_a_skip_that_shows_its_reason(pytester: pytest.Pytester) -> None:
    result = run(pytester, FILE_CHANNEL_CONFTEST, """
        from ordersync.testing import ChannelConformance

        class TestFileChannel(ChannelConformance):
            conformance_opt_outs = {
                "test_set_listing_quantity_to_zero": "Acme ends a listing at zero",
            }
    """, select="set_listing_quantity")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*conformance opt-out: Acme ends a listing at zero*"])


def test_opt_outs_are_inherited_by_subclasses(pytester: pytest.Pytester) -> None:
    result = run(pytester, FILE_CHANNEL_CONFTEST, """
        from ordersync.testing import ChannelConformance

        class Base(ChannelConformance):
            conformance_opt_outs = {"test_closing_twice_is_harmless": "closes once"}

        class TestFileChannel(Base):
            pass
    """, select="clos")
    result.assert_outcomes(passed=1, skipped=1)


def test_undeclared_capabilities_skip_their_tests_with_the_reason(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, """
        import pytest
        from ordersync.capabilities import ChannelCapabilities
        from ordersync_file_channel import FileChannel
        from ordersync_file_channel.sandbox import FileChannelSandbox

        class ReadOnlyChannel(FileChannel):
            capabilities = ChannelCapabilities(upload_tracking=False, set_listing_quantity=False)

        class ReadOnlySandbox(FileChannelSandbox):
            platform = ReadOnlyChannel

        @pytest.fixture
        def channel_sandbox():
            return ReadOnlySandbox()
    """, """
        from ordersync.testing import ChannelConformance

        class TestReadOnly(ChannelConformance):
            pass
    """, select="tracking or listing")
    result.assert_outcomes(passed=1, skipped=6)
    result.stdout.fnmatch_lines(["*the channel does not declare upload_tracking*"])


def test_store_without_text_lines_or_numbering_skips_those_tests(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, """
        import pytest
        from ordersync.capabilities import StoreCapabilities
        from ordersync_file_store import FileStore
        from ordersync_file_store.sandbox import FileStoreSandbox

        class PlainStore(FileStore):
            capabilities = StoreCapabilities(
                text_lines=False, set_order_number=False, order_number_prefix=False,
                tax_labels=False)

        class PlainSandbox(FileStoreSandbox):
            platform = PlainStore

        @pytest.fixture
        def store_sandbox():
            return PlainSandbox()
    """, """
        from ordersync.testing import StoreConformance

        class TestPlain(StoreConformance):
            pass
    """, select="text_line or number or tax or get_set_stock")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["*the store does not declare text_lines*"])


def test_store_without_cancel_or_refund_skips_those_tests_and_must_refuse(
    pytester: pytest.Pytester,
) -> None:
    conftest = """
        import pytest
        from ordersync.capabilities import StoreCapabilities
        from ordersync.errors import RejectedError
        from ordersync_file_store import FileStore
        from ordersync_file_store.sandbox import FileStoreSandbox

        class ManualStore(FileStore):
            capabilities = FileStore.capabilities.model_copy(
                update={"cancel_orders": False, "refund_orders": False})
            %s

        class ManualSandbox(FileStoreSandbox):
            platform = ManualStore

        @pytest.fixture
        def store_sandbox():
            return ManualSandbox()
    """
    refusing = """
            async def cancel_order(self, order, restock_line_ids):
                raise RejectedError("manual", "cancel", "cancel it in the store")

            async def refund_lines(self, order, quantities, restock, reference=None,
                                   amount=None, shipping=None):
                raise RejectedError("manual", "refund", "refund it in the store")
"""
    suite = """
        from ordersync.testing import StoreConformance

        class TestManual(StoreConformance):
            pass
    """
    result = run(pytester, conftest % refusing, suite, select="cancel or refund")
    result.assert_outcomes(passed=2, skipped=9)
    result.stdout.fnmatch_lines(["*the store does not declare cancel_orders*"])

    pytester.path.joinpath("conftest.py").unlink()
    result = run(pytester, conftest % "pass", suite, select="cancel or refund")
    result.assert_outcomes(failed=2, skipped=9)  # declares it cannot, yet cancels and refunds


def test_a_channel_that_breaks_the_contract_fails_the_suite(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest
        from ordersync_file_channel import FileChannel
        from ordersync_file_channel.sandbox import FileChannelSandbox

        class SloppyChannel(FileChannel):
            async def get_order(self, order_id):
                found = await super().get_order(order_id)
                if found is None:
                    raise KeyError(order_id)     # should return None
                return found

            async def set_listing_quantity(self, listing_id, quantity):
                pass                             # never reaches the platform

        class SloppySandbox(FileChannelSandbox):
            platform = SloppyChannel

        @pytest.fixture
        def channel_sandbox():
            return SloppySandbox()
    """, """
        from ordersync.testing import ChannelConformance

        class TestSloppy(ChannelConformance):
            pass
    """, select="get_order or listing")
    result.assert_outcomes(passed=3, failed=4)
    result.stdout.fnmatch_lines([
        "FAILED *::test_get_order_unknown_returns_none*",
        "FAILED *::test_set_listing_quantity_is_visible_on_platform*",
    ], consecutive=False)


def test_missing_sandbox_fixture_fails_with_what_to_provide(pytester: pytest.Pytester) -> None:
    result = run(pytester, "", """
        from ordersync.testing import StoreConformance

        class TestNoSandbox(StoreConformance):
            conformance_opt_outs = {}
    """, select="stock")
    assert result.parseoutcomes()["errors"] >= 1
    assert "passed" not in result.parseoutcomes()
    result.stdout.fnmatch_lines([
        "*StoreConformance needs a fixture named `store_sandbox` returning the platform's "
        "StoreSandbox*",
    ])


def test_conformance_marker_deselects_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FILE_CHANNEL_CONFTEST)
    pytester.makepyfile(test_plugin="""
        from ordersync.testing import ChannelConformance

        class TestFileChannel(ChannelConformance):
            pass

        def test_own():
            pass
    """)
    result = pytester.runpytest(*QUIET, "--strict-markers", "-m", "not conformance", "--co")
    result.stdout.fnmatch_lines([
        f"*1/{len(ChannelConformance.conformance_tests()) + 1} tests collected "
        f"({len(ChannelConformance.conformance_tests())} deselected)*"])


# -- what a plugin declares ----------------------------------------------------------------------

#: A file channel that declares webhooks, signed with HMAC-SHA256 under a secret in its config,
#: and a sandbox that makes deliveries; ``ACCEPTS_FORGERIES`` switches the check off.
WEBHOOK_CHANNEL = """
import hashlib, hmac, json, pytest
from ordersync.capabilities import ChannelCapabilities
from ordersync.platform import Secret, WebhookEvent, WebhookSignatureError
from ordersync.sandbox import WebhookDelivery
from ordersync_file_channel import FileChannel, FileChannelConfig
from ordersync_file_channel.sandbox import FileChannelSandbox

ACCEPTS_FORGERIES = {forgeries}

class HookConfig(FileChannelConfig):
    webhook_secret: Secret

class HookChannel(FileChannel):
    Config = HookConfig
    capabilities = ChannelCapabilities(webhooks=True)

    def parse_webhook(self, headers, body):
        key = self.config.webhook_secret.get_secret_value().encode()
        wanted = hmac.new(key, body, hashlib.sha256).hexdigest()
        if not ACCEPTS_FORGERIES and not hmac.compare_digest(wanted, headers.get("x-sig", "")):
            raise WebhookSignatureError("x-sig does not match the body")
        data = json.loads(body)
        return WebhookEvent(event_id=data["event"], order_ids=(data["order"],))

class HookSandbox(FileChannelSandbox):
    platform = HookChannel

    def config(self):
        return {{**super().config(), "webhook_secret": "${{HOOK_SECRET}}"}}

    def environ(self):
        return {{"HOOK_SECRET": "s3cret"}}

    def webhook_delivery(self, order_id, *, forged=False):
        body = json.dumps({{"event": "e-" + order_id, "order": order_id}}).encode()
        key = b"forged" if forged else b"s3cret"
        return WebhookDelivery({{"X-Sig": hmac.new(key, body, hashlib.sha256).hexdigest()}}, body)

@pytest.fixture
def channel_sandbox():
    return HookSandbox()
"""


@pytest.mark.parametrize(("forgeries", "outcome"), [(False, {"passed": 3}),
                                                   (True, {"passed": 2, "failed": 1})])
def test_webhooks_declared_are_tested_with_a_delivery_and_a_forgery(
    pytester: pytest.Pytester, forgeries: bool, outcome: dict[str, int],
) -> None:
    result = run(pytester, WEBHOOK_CHANNEL.format(forgeries=forgeries), """
        from ordersync.testing import ChannelConformance

        class TestHooks(ChannelConformance):
            pass
    """, select="webhook or declared_capability")
    result.assert_outcomes(**outcome)
    if forgeries:
        result.stdout.fnmatch_lines(["FAILED *::test_forged_webhook_delivery_raises_*"])


def test_a_capability_declared_without_its_method_fails(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest
        from ordersync.capabilities import ChannelCapabilities
        from ordersync_file_channel import FileChannel
        from ordersync_file_channel.sandbox import FileChannelSandbox

        class Boasting(FileChannel):
            capabilities = ChannelCapabilities(webhooks=True)

        class BoastingSandbox(FileChannelSandbox):
            platform = Boasting

        @pytest.fixture
        def channel_sandbox():
            return BoastingSandbox()
    """, """
        from ordersync.testing import ChannelConformance

        class TestBoasting(ChannelConformance):
            pass
    """, select="declared_capability or webhook_delivery_signed")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*webhooks (needs parse_webhook)*",
                                 "*its sandbox must make deliveries*"], consecutive=False)


@pytest.mark.parametrize(("filters", "outcome"), [(True, {"passed": 1, "skipped": 1}),
                                                 (False, {"failed": 1, "skipped": 1})])
def test_a_paid_only_channel_must_never_yield_an_unpaid_order(
    pytester: pytest.Pytester, filters: bool, outcome: dict[str, int],
) -> None:
    result = run(pytester, f"""
        import pytest
        from ordersync.capabilities import ChannelCapabilities
        from ordersync.models import OrderStatus
        from ordersync.platform import OrderPage
        from ordersync_file_channel import FileChannel
        from ordersync_file_channel.sandbox import FileChannelSandbox

        class PaidOnly(FileChannel):
            capabilities = ChannelCapabilities(paid_orders_only=True)

            async def fetch_orders(self, since):
                async for page in super().fetch_orders(since):
                    if {filters}:
                        page = OrderPage([o for o in page.orders
                                          if o.status is not OrderStatus.UNPAID], page.failures)
                    yield page

        class PaidOnlySandbox(FileChannelSandbox):
            platform = PaidOnly

        @pytest.fixture
        def channel_sandbox():
            return PaidOnlySandbox()
    """, """
        from ordersync.testing import ChannelConformance

        class TestPaidOnly(ChannelConformance):
            pass
    """, select="unpaid")
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*declares paid_orders_only: it never yields unpaid orders*"])


def test_a_channel_that_restocks_must_yield_a_cancellation(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest
        from ordersync.models import OrderStatus
        from ordersync.platform import OrderPage
        from ordersync_file_channel import FileChannel
        from ordersync_file_channel.sandbox import FileChannelSandbox

        class ForgetsCancellations(FileChannel):
            async def fetch_orders(self, since):
                async for page in super().fetch_orders(since):
                    yield OrderPage([o for o in page.orders
                                     if o.status is not OrderStatus.CANCELLED], page.failures)

        class Sandbox(FileChannelSandbox):
            platform = ForgetsCancellations

        @pytest.fixture
        def channel_sandbox():
            return Sandbox()
    """, """
        from ordersync.testing import ChannelConformance

        class TestForgetful(ChannelConformance):
            pass
    """, select="cancelled_order")
    result.assert_outcomes(failed=1)


def test_a_cancellation_or_refund_that_never_reaches_the_platform_fails(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, """
        import uuid

        import pytest
        from ordersync_file_channel import FileChannel
        from ordersync_file_channel.sandbox import FileChannelSandbox

        class Forgetful(FileChannel):
            async def cancel_order(self, order, reason):
                pass                                  # never reaches the platform

            async def refund(self, order, quantities, amount, reference):
                # loses the reference: a retry refunds again
                await super().refund(order, quantities, amount, uuid.uuid4().hex)

        class Sandbox(FileChannelSandbox):
            platform = Forgetful

        @pytest.fixture
        def channel_sandbox():
            return Sandbox()
    """, """
        from ordersync.testing import ChannelConformance

        class TestForgetful(ChannelConformance):
            pass
    """, select="cancel_order or refund")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "FAILED *::test_cancel_order_is_visible_on_platform*",
        "FAILED *::test_refund_with_a_reference_already_made_is_not_made_again*",
    ], consecutive=False)


def test_the_kit_runs_in_a_package_outside_this_repository_in_strict_mode(
    tmp_path: Path,
) -> None:
    """What a plugin author's own package does: its conftest gives the one-line fixture
    (``sandbox_fixture``), its pytest runs pytest-asyncio in strict mode, with no configuration
    from this repository."""
    package = tmp_path / "ordersync-acme"
    (package / "tests").mkdir(parents=True)
    (package / "pyproject.toml").write_text('[project]\nname = "ordersync-acme"\n'
                                            'version = "0.1.0"\n')
    (package / "tests" / "conftest.py").write_text(
        "from ordersync.testing import sandbox_fixture\n"
        "from ordersync_file_store.sandbox import FileStoreSandbox\n\n"
        "store_sandbox = sandbox_fixture(FileStoreSandbox)\n")
    (package / "tests" / "test_conformance.py").write_text(
        "from ordersync.testing import StoreConformance\n\n\n"
        "class TestAcmeConformance(StoreConformance):\n    pass\n")

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "asyncio", "--asyncio-mode=strict",
         "-p", "no:cacheprovider", "-p", "no:xdist", "-rs", "tests"],
        cwd=package, capture_output=True, text=True, check=False, timeout=300)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"asyncio: mode=(Mode\.)?strict", done.stdout, re.IGNORECASE), done.stdout
    summary = re.search(r"(\d+) passed, (\d+) skipped in", done.stdout)
    assert summary is not None, done.stdout[-2000:]
    assert sum(map(int, summary.groups())) == len(StoreConformance.conformance_tests())
    assert "the store does not declare webhooks" in done.stdout  # a reasoned skip


def test_opt_outs_are_checked_when_the_class_is_made() -> None:
    with pytest.raises(PluginError, match="unknown test 'test_nope'"):
        type("TestX", (StoreConformance,), {"conformance_opt_outs": {"test_nope": "why"}})
    with pytest.raises(PluginError, match="must be a dict"):
        type("TestY", (StoreConformance,), {"conformance_opt_outs": ["test_get_set_stock"]})


# -- builders ---------------------------------------------------------------------------------


def test_make_order_totals_lines_and_shipping() -> None:
    order = make_order("1001", lines=[make_line("1", quantity=2), make_line("2", unit_price="3")])
    assert order.total == Decimal("12.00") * 2 + Decimal(3) + Decimal("4.99")
    assert (order.number, order.status, order.currency) == ("1001", OrderStatus.PAID, "GBP")
    assert order.created_at == order.updated_at and order.created_at.tzinfo is not None


def test_make_draft_moves_stock_of_linked_variants_only() -> None:
    mug = make_product("MUG-RED")
    draft = make_draft(
        [make_draft_line(mug, quantity=2), make_draft_line(None, line_id="2", sku="CARD")],
        channel="ebay-uk", channel_order_id="9")
    assert draft.deduct_stock == [mug.variant_id]
    assert draft.reference == "ordersync:ebay-uk:9"
    assert draft.lines[0].store_variant_id == mug.variant_id and draft.lines[0].linked
    assert draft.lines[1].store_variant_id is None and not draft.lines[1].linked
    assert draft.total == Decimal("24.00") + Decimal("12.00") + Decimal("4.99")


# -- docs -------------------------------------------------------------------------------------

ALL_TESTS = sorted(
    {*ChannelConformance.conformance_tests(), *StoreConformance.conformance_tests()}
)


@pytest.mark.parametrize("name", ALL_TESTS)
def test_every_conformance_test_is_documented(name: str) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "conformance.md").read_text(
        encoding="utf-8")
    assert f"`{name}`" in docs, f"docs/conformance.md does not describe {name}"
