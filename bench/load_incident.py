"""How long loading one incident with many events takes, with and without snapshots.

    python bench/load_incident.py [--events 1000] [--repeat 50]

Both figures come from the same store in the same run: the baseline replays
every event from the log; the snapshot figure is what `verify` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.base import SNAPSHOT_INTERVAL
from verify.domain import CasualtyRange, Location, Source
from verify.domain.incident import incident_id, project_incident


def build(app: VerifyApp, events: int) -> None:
    app.report_incident(
        code="CS1", date=dt.date(2017, 3, 17), country="Iraq", location=Location(name="Mosul"),
        belligerents=["Coalition"], killed=CasualtyRange(min=1, max=2),
        injured=CasualtyRange(), summary="bench", actor="bench",
    )
    incident = app.load("CS1")
    for n in range(events - 1):
        if n % 10 == 0:
            incident.add_source(
                Source(url=f"https://example.org/{n}", publisher=f"P{n}", kind="media"), "bench"
            )
        else:
            incident.add_note(f"note {n}", "bench")
        if len(incident.pending_events) >= 100:
            app.save(incident)
    app.save(incident)


def timed(action: Callable[[], None], repeat: int) -> list[float]:
    action()  # warm up: first-call costs are not what a load costs
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = parse_store(str(Path(folder) / "bench.sqlite")).env()
        app = VerifyApp(env=env)
        build(app, args.events)
        loaded = app.load("CS1")
        assert loaded.version == args.events, loaded.version
        events_of = app.events
        identity = incident_id("CS1")

        def with_snapshots() -> None:
            app.load("CS1")

        def replay_all() -> None:
            # The baseline: no snapshot store, every event read and applied.
            project_incident(None, events_of.get(identity))

        snap = timed(with_snapshots, args.repeat)
        full = timed(replay_all, args.repeat)
        app.close()
    print(f"incident with {args.events} events, snapshot every {SNAPSHOT_INTERVAL} events, "
          f"{args.repeat} loads each (SQLite file)")
    print(f"  {'':<31}{'median ms':>10}{'p95 ms':>10}")
    rows = (("with snapshots (verify)", snap), ("replay every event (baseline)", full))
    for label, samples in rows:
        ordered = sorted(samples)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        print(f"  {label:<31}{statistics.median(samples):>10.2f}{p95:>10.2f}")
    print(f"  speed-up: {statistics.median(full) / statistics.median(snap):.1f}x")


if __name__ == "__main__":
    main()
