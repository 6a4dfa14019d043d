"""Three ``ordersync run`` processes sharing one state database, as in docs/scale-out.md.

The channels and the main store are ``counted-file`` folders in ``tmp_path`` (every call that
changes a platform is counted); leases last ``cluster.lease`` (the daemons get
``ORDERSYNC_LEASE``). Each test waits until the end state is right or a bound runs out, and the
assertion lists every difference from "each thing done exactly once".
"""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from tests.daemon.harness import ORDERSYNC, Daemon, wait_for
from tests.scale.harness import Cluster, Workload

DAEMONS = 3


def _settled(cluster: Cluster, workload: Workload) -> bool:
    return workload.imported() and not cluster.sql(
        "SELECT id FROM effect WHERE status != 'done'")


def _output(daemons: list[Daemon]) -> str:
    return "\n".join(f"--- daemon {d.proc.pid} ---\n{d.output()[-4000:]}" for d in daemons)


def _wait_until_right(
    workload: Workload, daemons: list[Daemon], timeout: float, *, killed: bool = False
) -> None:
    wait_for(lambda: not workload.problems(killed=killed), "the end state to be right",
             timeout, every=0.5,
             output=lambda: "\n".join(workload.problems(killed=killed)) + "\n"
             + _output(daemons))


def _start(cluster: Cluster, count: int) -> list[Daemon]:
    """``count`` daemons, started side by side (each takes seconds to come up)."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: cluster.start(), range(count)))


def _stop(daemons: list[Daemon]) -> None:
    for daemon in daemons:
        if daemon.proc.poll() is None:
            code, _ = daemon.stop(signal.SIGTERM)
            assert code == 0, daemon.output()[-4000:]


def test_three_daemons_sharing_a_database_do_everything_exactly_once(
    cluster: Cluster, daemons: list[Daemon],
) -> None:
    cluster.configure(poll_interval="1s")
    # A few hundred orders on PostgreSQL; fewer on SQLite, whose one write lock the three
    # processes take in turns (it proves the same, more slowly).
    per_channel = 30 if cluster.database.startswith("sqlite") else 100
    workload = Workload(cluster, per_channel=per_channel)
    daemons.extend(_start(cluster, DAEMONS))
    workload.place()
    wait_for(lambda: _settled(cluster, workload), "every order imported", 120, every=0.5,
             output=lambda: _output(daemons))

    workload.cancel_every(5)
    workload.ship_every(5, offset=1)
    _wait_until_right(workload, daemons, 90)
    _stop(daemons)

    assert workload.problems() == []
    # The work was shared: more than one daemon created store orders, and each channel's
    # passes ran in more than one place over the run (never two at once: leases).
    creators = {call["pid"] for call in _calls(cluster, "create_order")}
    assert len(creators & {d.proc.pid for d in daemons}) >= 2
    # Nobody died, so nobody's lease ran out: heartbeats kept every live worker's work its own.
    for daemon in daemons:
        assert "the lease was lost" not in daemon.output()
        assert "taking over" not in daemon.output()


def _calls(cluster: Cluster, call: str) -> list[dict[str, str | int]]:
    from tests.scale.doubles import read_calls

    return [c for c in read_calls(cluster.store) if c["call"] == call]


def test_a_daemon_killed_mid_run_leaves_its_work_to_the_others(
    cluster: Cluster, daemons: list[Daemon],
) -> None:
    # Slow creates: the victim is sure to die holding claims (one in flight, more waiting).
    cluster.configure(poll_interval="1s", create_delay=0.25)
    workload = Workload(cluster, per_channel=15)
    daemons.extend(_start(cluster, DAEMONS))
    workload.place()

    def a_daemon_holding_claims() -> Daemon | None:
        """The first daemon found holding claims: the victim (whichever one got work first;
        with effects applied concurrently, one daemon may do a whole burst alone)."""
        for daemon in daemons:
            if cluster.sql("SELECT id FROM effect WHERE status = 'pending' AND claimed_by LIKE :w"
                           " AND lease_until IS NOT NULL", w=f"%:{daemon.proc.pid}:%"):
                return daemon
        return None

    victim = wait_for(a_daemon_holding_claims, "a daemon to claim effects", 60, every=0.02,
                      output=lambda: _output(daemons))
    mine = f"%:{victim.proc.pid}:%"
    daemons.remove(victim)
    daemons.insert(0, victim)  # the survivors are daemons[1:] below
    # Frozen first, so that what it holds can be read before it dies (once it is dead, the
    # others may take it over at once on SQLite, which knows the process is gone).
    victim.send(signal.SIGSTOP)
    # A commit it sent just before it stopped still lands (the server finishes it): what it
    # holds is read once that has happened, not in between.
    time.sleep(0.5)
    orphans = cluster.sql(
        "SELECT key, lease_until FROM effect WHERE status = 'pending' AND claimed_by LIKE :w "
        "AND lease_until IS NOT NULL", w=mine)
    held = cluster.sql("SELECT name FROM lease WHERE holder LIKE :w AND lease_until IS NOT NULL",
                       w=mine)
    victim.proc.kill()
    victim.proc.wait(10)
    assert orphans, "the victim finished its claims before it stopped; nothing to take over"

    # More orders after the kill: only passes the survivors run can import them, whichever
    # channel leases the victim held when it died.
    late = Workload(cluster, per_channel=0)
    for name in cluster.channels:
        late.orders.update(_more_orders(workload, name, 5))
    _wait_until_right(workload, daemons[1:], 120, killed=True)
    survivors = {d.proc.pid for d in daemons[1:]}
    for orphan in orphans:
        row = cluster.sql("SELECT status, claimed_by, done_at FROM effect WHERE key = :k",
                          k=orphan.key)[0]
        assert row.status == "done"
        assert int(str(row.claimed_by).split(":")[1]) in survivors
        if not cluster.database.startswith("sqlite"):
            # PostgreSQL: taken over only once the dead claim ran out. (SQLite, on one host,
            # knows the process is gone and takes its work over at once.)
            assert row.done_at >= orphan.lease_until
    _stop(daemons[1:])
    assert workload.problems(killed=True) == [], f"leases the victim held: {held}"


def _more_orders(workload: Workload, name: str, count: int) -> dict[tuple[str, str], object]:
    """``count`` more paid orders on channel ``name``, added to ``workload``."""
    from ordersync.testing.builders import make_line, make_order

    from tests.scale.harness import LISTING, order_id

    added = {}
    start = 1 + sum(1 for channel, _ in workload.orders if channel == name)
    for number in range(start, start + count):
        line = make_line("1", listing_id=LISTING, sku="MUG", title="Mug", quantity=1,
                         unit_price="10.00")
        order = make_order(order_id(name, number), lines=[line])
        workload.orders[(name, order.id)] = order
        workload._write(name, order)
        added[(name, order.id)] = order
    return added


def test_sync_once_beside_a_running_daemon_applies_nothing_twice(
    cluster: Cluster, daemons: list[Daemon],
) -> None:
    cluster.configure(poll_interval="1s")
    workload = Workload(cluster, per_channel=20)
    workload.place()
    daemons.append(cluster.start())
    once = [subprocess.Popen([ORDERSYNC, "--config", str(cluster.config), "sync", "--once"],
                             env=cluster.env, cwd=cluster.root, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    for proc in once:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
    _wait_until_right(workload, daemons, 90)
    _stop(daemons)
    assert workload.problems() == []
