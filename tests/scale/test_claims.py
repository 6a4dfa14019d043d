"""Claims and leases, one rule at a time, on SQLite and on PostgreSQL.

Workers here are just names (``worker_id`` strings) sharing one database: what one may claim,
renew, mark and take over while another holds or held it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from ordersync.engine.plan import EffectSpec
from ordersync.state import leases, ledger
from ordersync.state.db import make_engine, session_scope, upgrade
from ordersync.state.tables import Effect, EffectStatus
from ordersync.sync import apply
from sqlmodel import col, select

SHORT = timedelta(seconds=1)


@pytest.fixture
def engine(database: str) -> Iterator[sa.Engine]:
    engine = make_engine(database)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Cheaper than the package's: PostgreSQL's schema is made once and emptied after each test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE effect, lease, alert")
    engine.dispose()


def spec(key: str, order_id: str = "", kind: str = "create_order",
         payload: dict[str, str] | None = None) -> EffectSpec:
    return EffectSpec(key=key, kind=kind, channel="north",  # type: ignore[arg-type]
                      order_id=order_id or key, payload=payload or {})


def push(key: str, variant: str) -> EffectSpec:
    return EffectSpec(key=key, kind=ledger.PUSH_KIND, channel="@store",  # type: ignore[arg-type]
                      order_id="", payload={"variant": variant})


def enqueue(engine: sa.Engine, *specs: EffectSpec) -> None:
    with session_scope(engine) as session:
        ledger.enqueue(session, specs)


def claim(engine: sa.Engine, worker: str, lease: timedelta = SHORT, **kw: object) -> list[str]:
    with session_scope(engine) as session:
        return [e.key for e in ledger.claim(session, worker, lease, **kw)]  # type: ignore[arg-type]


def row(engine: sa.Engine, key: str) -> Effect:
    with session_scope(engine, read_only=True) as session:
        found = session.exec(select(Effect).where(Effect.key == key)).one()
    return found


# --- effects -----------------------------------------------------------------------------------


def test_an_effect_claimed_by_one_worker_is_not_claimed_by_another(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"), spec("b"))
    assert claim(engine, "w1", limit=1) == ["a"]
    assert claim(engine, "w2") == ["b"]
    assert claim(engine, "w3") == []
    assert row(engine, "a").claimed_by == "w1"
    assert row(engine, "b").claimed_by == "w2"


def test_a_claim_that_ran_out_is_taken_over(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"))
    assert claim(engine, "w1", timedelta(milliseconds=300)) == ["a"]
    assert claim(engine, "w2") == []
    time.sleep(0.4)
    assert claim(engine, "w2") == ["a"]
    assert row(engine, "a").claimed_by == "w2"


def test_a_heartbeat_keeps_a_claim_from_running_out(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"))
    assert claim(engine, "w1", timedelta(milliseconds=400)) == ["a"]
    effect_id = row(engine, "a").id
    assert effect_id is not None
    for _ in range(4):
        time.sleep(0.2)
        with session_scope(engine) as session:
            assert ledger.extend(session, [effect_id], "w1", timedelta(milliseconds=400)) \
                == {effect_id}
        assert claim(engine, "w2") == []
    with session_scope(engine) as session:  # someone else's heartbeat renews nothing
        assert ledger.extend(session, [effect_id], "w2", SHORT) == set()


def test_only_the_claimant_marks_an_effect_done_or_failed(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"))
    claim(engine, "w1", timedelta(milliseconds=200))
    time.sleep(0.3)
    claim(engine, "w2")  # w1 stalled past its lease: w2 took the effect over
    with session_scope(engine) as session:
        effect = session.exec(select(Effect).where(Effect.key == "a")).one()
        assert not ledger.mark_done(session, effect, "w1")
        assert not ledger.mark_failed(session, effect, "boom", final=True, worker="w1")
    assert row(engine, "a").status == EffectStatus.PENDING.value
    with session_scope(engine) as session:
        effect = session.exec(select(Effect).where(Effect.key == "a")).one()
        assert ledger.mark_done(session, effect, "w2")
    done = row(engine, "a")
    assert (done.status, done.lease_until) == (EffectStatus.DONE.value, None)
    with session_scope(engine) as session:  # done is done: nobody marks it again
        effect = session.exec(select(Effect).where(Effect.key == "a")).one()
        assert not ledger.mark_done(session, effect, "w2")


def test_a_retriable_failure_gives_the_claim_back(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"))
    claim(engine, "w1")
    with session_scope(engine) as session:
        effect = session.exec(select(Effect).where(Effect.key == "a")).one()
        assert ledger.mark_failed(session, effect, "429", final=False, worker="w1")
    assert claim(engine, "w2") == ["a"]
    assert row(engine, "a").attempts == 1


def test_claims_given_back_are_claimed_again_at_once(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"), spec("b"))
    claim(engine, "w1")
    ids = [row(engine, "a").id, row(engine, "b").id]
    with session_scope(engine) as session:
        ledger.release(session, [i for i in ids if i is not None], "w1")
    assert claim(engine, "w2") == ["a", "b"]


def test_an_orders_effects_wait_while_one_of_them_is_claimed(engine: sa.Engine) -> None:
    enqueue(engine, spec("refund:0", order_id="7"), spec("refund:1", order_id="7"),
            spec("create:8", order_id="8"))
    assert claim(engine, "w1", limit=1) == ["refund:0"]
    assert claim(engine, "w2") == ["create:8"]  # refund:1 waits for refund:0
    with session_scope(engine) as session:
        effect = session.exec(select(Effect).where(Effect.key == "refund:0")).one()
        ledger.mark_done(session, effect, "w1")
    assert claim(engine, "w2") == ["refund:1"]


def test_stock_pushes_of_one_variant_are_never_in_flight_twice(engine: sa.Engine) -> None:
    enqueue(engine, push("push:V1:a", "V1"), push("push:V2:a", "V2"))
    assert claim(engine, "w1", pushes=True, limit=1) == ["push:V1:a"]
    enqueue(engine, push("push:V1:b", "V1"))  # stock moved again meanwhile
    # w2 must not read and push V1's quantity while w1's older push may still land after it.
    assert claim(engine, "w2", pushes=True) == ["push:V2:a"]
    with session_scope(engine) as session:
        effect = session.exec(select(Effect).where(Effect.key == "push:V1:a")).one()
        ledger.mark_done(session, effect, "w1")
    assert claim(engine, "w2", pushes=True) == ["push:V1:b"]


def test_each_key_two_writers_add_at_once_is_added_once_and_said_added_once(
    engine: sa.Engine,
) -> None:
    # A pass and a webhook deciding the same orders at once: on PostgreSQL both find the keys
    # new and insert them together; the second waits for the first and skips what it added.
    keys = {f"create:{i}" for i in range(60)}
    added: dict[str, set[str]] = {}
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        barrier.wait()
        with session_scope(engine) as session:
            added[name] = set(ledger.enqueue(session, [spec(key) for key in sorted(keys)]))

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert added["w1"] | added["w2"] == keys
    assert not added["w1"] & added["w2"]
    with session_scope(engine, read_only=True) as session:
        assert len(session.exec(select(Effect.key)).all()) == len(keys)


def pending_pushes(engine: sa.Engine) -> set[str]:
    with session_scope(engine, read_only=True) as session:
        return set(session.exec(select(Effect.key).where(
            Effect.kind == ledger.PUSH_KIND, Effect.status == EffectStatus.PENDING.value)))


def test_stock_moves_share_the_push_of_their_variant_that_waits(engine: sa.Engine) -> None:
    def moved(*causes: tuple[str, list[str]]) -> None:
        with session_scope(engine) as session:
            apply.enqueue(session, [s for cause, variants in causes
                                    for s in apply.push_specs(variants, cause)])

    moved(("create:1", ["V1"]), ("create:2", ["V1"]))  # one batch: one push of V1
    moved(("create:3", ["V1", "V2"]))  # V1's waits, and reads the quantity when it runs
    assert pending_pushes(engine) == {"push_stock:V1:create:1", "push_stock:V2:create:3"}
    assert sorted(claim(engine, "w1", pushes=True)) == ["push_stock:V1:create:1",
                                                        "push_stock:V2:create:3"]
    # In flight, V1's push may have read the quantity before this move: a new one waits.
    moved(("create:4", ["V1"]))
    assert "push_stock:V1:create:4" in pending_pushes(engine)
    moved(("create:5", ["V1"]))  # ... and serves the next move too
    assert "push_stock:V1:create:5" not in pending_pushes(engine)
    with session_scope(engine) as session:  # w1 gives V2's back without starting it
        ledger.release(session, [row(engine, "push_stock:V2:create:3").id or 0], "w1")
    moved(("create:6", ["V2"]))
    assert "push_stock:V2:create:6" not in pending_pushes(engine)


def test_a_push_waiting_from_an_earlier_version_is_shared_and_keeps_its_variant_busy(
    engine: sa.Engine,
) -> None:
    """Pushes of one variant are found by their payload's text, which stays what earlier
    versions wrote (they may have left pushes pending in the database)."""
    with session_scope(engine) as session:
        session.add(Effect(key="push_stock:V1:old", kind=ledger.PUSH_KIND, channel="@store",
                           payload='{"variant": "V1"}'))
    with session_scope(engine) as session:
        apply.enqueue(session, apply.push_specs(["V1"], "create:7"))
    assert pending_pushes(engine) == {"push_stock:V1:old"}  # the waiting one serves it
    assert claim(engine, "w1", pushes=True) == ["push_stock:V1:old"]
    with session_scope(engine) as session:  # it is in flight now: a new one waits behind it
        apply.enqueue(session, apply.push_specs(["V1"], "create:8"))
    assert claim(engine, "w2", pushes=True) == []


def test_pushes_and_other_effects_are_claimed_apart_and_by_channel(engine: sa.Engine) -> None:
    enqueue(engine, push("push:V1:a", "V1"), spec("a"),
            EffectSpec(key="b", kind="create_order", channel="south",  # type: ignore[arg-type]
                       order_id="b", payload={}))
    assert claim(engine, "w1", channels=("north", "@store")) == ["a"]
    assert claim(engine, "w1", channels=("north", "@store"), pushes=True) == ["push:V1:a"]
    assert claim(engine, "w2", channels=("north", "@store")) == []
    assert claim(engine, "w2") == ["b"]


def test_an_effect_being_applied_is_not_dropped(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"), spec("b"))
    claim(engine, "w1", limit=1)
    with session_scope(engine) as session:
        assert not ledger.drop(session, "a")  # its store order may be landing right now
        assert ledger.drop(session, "b")
    assert row(engine, "a").status == EffectStatus.PENDING.value


def _claim_all(engine: sa.Engine, worker: str, out: list[str], barrier: threading.Barrier) -> None:
    barrier.wait()
    while batch := claim(engine, worker, timedelta(minutes=1), limit=3):
        out.extend(batch)


def test_concurrent_claimers_split_the_ledger_without_overlap(engine: sa.Engine) -> None:
    enqueue(engine, *(spec(f"e{i:03d}") for i in range(300)))
    claimed: dict[str, list[str]] = {f"w{i}": [] for i in range(6)}
    barrier = threading.Barrier(len(claimed))
    threads = [threading.Thread(target=_claim_all, args=(engine, w, out, barrier))
               for w, out in claimed.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [key for keys in claimed.values() for key in keys]
    assert sorted(every) == sorted(f"e{i:03d}" for i in range(300))  # each once, none lost
    with session_scope(engine, read_only=True) as session:
        holders = {e.key: e.claimed_by for e in session.exec(select(Effect))}
    assert all(holders[key] == worker for worker, keys in claimed.items() for key in keys)


# --- leases ------------------------------------------------------------------------------------


def test_a_lease_is_held_by_one_worker_until_it_is_released(engine: sa.Engine) -> None:
    first = leases.try_acquire(engine, "channel:north", "w1", SHORT)
    assert first.acquired
    second = leases.try_acquire(engine, "channel:north", "w2", SHORT)
    assert (second.acquired, second.holder) == (False, "w1")
    assert not leases.try_acquire(engine, "channel:north", "w1", SHORT).acquired  # not twice
    assert leases.try_acquire(engine, "channel:south", "w2", SHORT).acquired
    assert leases.release(engine, "channel:north", "w1", next_run_in=timedelta(minutes=5))
    after = leases.try_acquire(engine, "channel:north", "w2", SHORT)
    assert after.acquired
    assert 290 < after.due_in() <= 300  # w1 ran the pass: the next is due in 5 minutes


def test_a_lease_that_ran_out_is_taken_over_and_its_holder_cannot_renew_it(
    engine: sa.Engine,
) -> None:
    assert leases.try_acquire(engine, "store", "w1", timedelta(milliseconds=300)).acquired
    assert leases.renew(engine, "store", "w1", timedelta(milliseconds=300))
    assert not leases.try_acquire(engine, "store", "w2", SHORT).acquired
    time.sleep(0.4)
    assert leases.try_acquire(engine, "store", "w2", SHORT).acquired
    assert not leases.renew(engine, "store", "w1", SHORT)
    assert not leases.release(engine, "store", "w1")
    state = leases.read(engine, "store")
    assert state is not None and state.holder == "w2" and state.held_for() > 0


async def test_holding_a_lease_heartbeats_past_its_duration_and_releases_it(
    engine: sa.Engine,
) -> None:
    lease = timedelta(milliseconds=450)
    async with leases.hold(engine, "reconciliation", "w1", lease) as held:
        assert isinstance(held, leases.Held)
        await asyncio.sleep(1.2)  # almost three leases long
        busy = await asyncio.to_thread(leases.try_acquire, engine, "reconciliation", "w2", lease)
        assert not busy.acquired and not held.lost
    assert leases.try_acquire(engine, "reconciliation", "w2", lease).acquired


async def test_work_stops_when_its_lease_is_lost(engine: sa.Engine) -> None:
    lease = timedelta(milliseconds=600)
    finished = False

    async def work() -> str:
        nonlocal finished
        await asyncio.sleep(5)
        finished = True
        return "done"

    async with leases.hold(engine, "channel:north", "w1", lease) as held:
        assert isinstance(held, leases.Held)
        with session_scope(engine) as session:  # as if w1 had stalled and w2 taken over
            session.execute(sa.text("UPDATE lease SET holder = 'w2' WHERE name = :n"),
                            {"n": "channel:north"})
        started = time.monotonic()
        assert await leases.until_lost(held, work()) is None
    assert not finished and time.monotonic() - started < 2
    state = leases.read(engine, "channel:north")
    assert state is not None and state.holder == "w2"  # not released by the loser


async def test_a_held_lease_is_waited_for(engine: sa.Engine) -> None:
    assert leases.try_acquire(engine, "channel:north", "w1", SHORT).acquired
    told: list[str | None] = []

    async def let_go() -> None:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(leases.release, engine, "channel:north", "w1")

    releasing = asyncio.create_task(let_go())
    async with leases.holding_when_free(engine, "channel:north", "w2", SHORT, timeout=5,
                                        on_wait=lambda s: told.append(s.holder)) as held:
        assert isinstance(held, leases.Held)
    await releasing
    assert told == ["w1"]
    assert leases.try_acquire(engine, "channel:north", "w3", SHORT).acquired
    async with leases.holding_when_free(engine, "channel:north", "w2", SHORT,
                                        timeout=0.3) as busy:
        assert isinstance(busy, leases.LeaseState) and busy.holder == "w3"


def test_on_sqlite_a_dead_local_processes_leases_and_claims_are_taken_over_at_once(
    engine: sa.Engine, database: str,
) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("PostgreSQL is shared by hosts: only a lease's running out counts there")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = f"{leases.socket.gethostname()}:{proc.pid}:cafe0001"
    enqueue(engine, spec("a"))
    assert leases.try_acquire(engine, "store", dead, timedelta(hours=1)).acquired
    assert claim(engine, dead, timedelta(hours=1)) == ["a"]
    assert not leases.try_acquire(engine, "store", "w2", SHORT).acquired  # alive: it waits
    assert claim(engine, "w2") == []
    proc.kill()
    proc.wait()
    assert leases.try_acquire(engine, "store", "w2", SHORT).acquired
    assert claim(engine, "w2") == ["a"]


def test_the_lease_duration_comes_from_the_environment() -> None:
    assert leases.lease_duration({}) == leases.DEFAULT_LEASE
    assert leases.lease_duration({leases.LEASE_ENV: "2s"}) == timedelta(seconds=2)
    assert leases.lease_duration({leases.LEASE_ENV: "1.5"}) == timedelta(seconds=1.5)
    for bad in ("soon", "10ms"):
        with pytest.raises(Exception, match=leases.LEASE_ENV):
            leases.lease_duration({leases.LEASE_ENV: bad})


def test_worker_ids_name_host_and_process_and_differ() -> None:
    first, second = leases.new_worker_id(), leases.new_worker_id()
    host, pid, rand = first.split(":")
    assert host == leases.socket.gethostname() and pid == str(leases.os.getpid())
    assert len(rand) == 8 and first != second


def test_only_pending_effects_count_when_claiming(engine: sa.Engine) -> None:
    enqueue(engine, spec("a"), spec("b"))
    with session_scope(engine) as session:
        session.execute(sa.update(Effect).where(col(Effect.key) == "a")
                        .values(status=EffectStatus.DONE.value))
    assert claim(engine, "w1") == ["b"]


def test_an_alert_one_worker_is_sending_is_left_alone_by_another(
    engine: sa.Engine, database: str,
) -> None:
    if database.startswith("sqlite"):
        pytest.skip("SQLite lets one writer in at a time: the second sender simply waits")
    from ordersync.platform import Alert, AlertKind
    from ordersync.sync.alerts import record_alert, unsent

    with session_scope(engine) as session:
        record_alert(session, Alert(kind=AlertKind.IMPORT_FAILURE, channel="north",
                                    order_id="7", reason="boom"))
    with session_scope(engine) as sending:
        assert len(unsent(sending)) == 1  # held until this worker has sent it
        with session_scope(engine) as other:
            assert unsent(other) == []
