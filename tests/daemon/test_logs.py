"""Log records of every logger leave as text or JSON lines with credential values masked:
in the message, its arguments, extra fields and tracebacks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from ordersync.logs import setup_logging
from ordersync.secrets import scrubber

SECRET = "canary-logs-0a9f3c77"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _log_everything(logger: logging.Logger) -> None:
    logger.warning("token %s refused", SECRET, extra={"channel": "shop", "detail": SECRET})
    try:
        raise RuntimeError(f"bad key {SECRET}")
    except RuntimeError:
        logger.exception("call failed")


@pytest.mark.usefixtures("restore_root")
def test_json_lines_carry_fields_and_never_the_secret() -> None:
    stream = io.StringIO()
    setup_logging("json", scrubber([SECRET]), stream=stream)
    _log_everything(logging.getLogger("ordersync.test"))

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "token *** refused"
    assert (lines[0]["level"], lines[0]["logger"]) == ("WARNING", "ordersync.test")
    assert (lines[0]["channel"], lines[0]["detail"]) == ("shop", "***")
    assert lines[0]["time"].endswith("Z")
    assert "RuntimeError: bad key ***" in lines[1]["exception"]
    assert SECRET not in stream.getvalue()


@pytest.mark.usefixtures("restore_root")
def test_text_lines_from_any_logger_never_carry_the_secret() -> None:
    stream = io.StringIO()
    setup_logging("text", scrubber([SECRET]), stream=stream)
    _log_everything(logging.getLogger("some.plugin"))

    text = stream.getvalue()
    assert "WARNING some.plugin: token *** refused [channel=shop detail=***]" in text
    assert "RuntimeError: bad key ***" in text
    assert SECRET not in text


@pytest.mark.usefixtures("restore_root")
def test_setting_up_again_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("text", stream=first)
    setup_logging("json", stream=second)
    logging.getLogger("ordersync.test").warning("once")
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["message"] == "once"
