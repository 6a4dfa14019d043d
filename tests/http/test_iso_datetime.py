"""ISO 8601 times of platform payloads: a missing or broken one is None, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from ordersync.http import iso_datetime, iso_utc, past_or_now, utc_now


def test_times_with_z_or_an_offset_keep_their_zone() -> None:
    assert iso_datetime("2026-03-01T10:00:00Z") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    moment = iso_datetime("2026-03-01T10:00:00+02:00")
    assert moment is not None and moment.utcoffset() == timedelta(hours=2)
    assert moment == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert moment.tzinfo == timezone(timedelta(hours=2))


def test_a_time_without_offset_is_utc_only_when_asked() -> None:
    assert iso_datetime("2026-03-01T10:00:00") == datetime(2026, 3, 1, 10)
    assert iso_datetime("2026-03-01T10:00:00", naive_is_utc=True) == datetime(
        2026, 3, 1, 10, tzinfo=UTC)


def test_missing_or_broken_times_are_none() -> None:
    for value in (None, "", 1700000000, "yesterday", "2026-13-01T00:00:00Z"):
        assert iso_datetime(value) is None


def test_times_are_written_in_utc_with_z_and_milliseconds_when_asked() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 5, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(moment) == "2026-03-01T10:00:05Z"
    assert iso_utc(moment, millis=True) == "2026-03-01T10:00:05.123Z"
    assert iso_utc(datetime(2026, 3, 1, 10)) == "2026-03-01T10:00:00Z"  # naive: UTC
    assert iso_datetime(iso_utc(moment, millis=True)) == datetime(2026, 3, 1, 10, 0, 5, 123000,
                                                                  tzinfo=UTC)


def test_a_time_sent_to_a_platform_is_never_in_the_future() -> None:
    before = utc_now()
    assert past_or_now(datetime(2026, 3, 1, 10)) == datetime(2026, 3, 1, 10, tzinfo=UTC)
    later = past_or_now(utc_now() + timedelta(hours=1))
    assert before <= later <= utc_now()
    assert before <= past_or_now(None) <= utc_now()
