"""Matching strike reports to incidents at scale, beside comparing every pair.

    python bench/strike_matching.py [--incidents 100000] [--reports 100000]

1. The matcher alone (domain objects in memory): the day-and-grid index over
   all reports, against the naive scan of every (incident, report) pair,
   timed on a sample of incidents and scaled to the full set.
2. The whole `verify strikes match` path on a SQLite store holding the same
   numbers of incidents and reports (reading the events, the read model, the
   gazetteer, and matching), without --apply.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from verify.adapters.strike_files import load_gazetteer
from verify.application.strike_reports import StrikeReports
from verify.demo.synthetic import PLACES, imported_store, write_archive
from verify.domain.strikes import Located, StrikeReportRecord, distance_km, match

COALITION = "US-led Coalition"
START = dt.date(2014, 8, 8)


def synthetic_reports(count: int, seed: int = 7) -> list[StrikeReportRecord]:
    rng = random.Random(seed)
    reports = []
    for number in range(count):
        place, _, prefix, lat, lon = PLACES[number % len(PLACES)]
        belligerent = COALITION if prefix != "RS" else "Russian Military"
        day = START + dt.timedelta(days=rng.randrange(3000))
        if number % 3 == 0:
            where = {"place": place.split()[0]}
        else:
            where = {"lat": round(lat + rng.uniform(-0.3, 0.3), 4),
                     "lon": round(lon + rng.uniform(-0.3, 0.3), 4)}
        reports.append(StrikeReportRecord.model_validate(
            {"reference": f"R{number}", "belligerent": belligerent,
             "strike_date": day.isoformat(), "strikes": rng.randint(1, 9), **where}))
    return reports


def naive(incidents: list[Located], reports: list[Located], radius_km: float,
          days: int) -> int:
    found = 0
    for incident in incidents:
        for report in reports:
            if (abs((report.day - incident.day).days) <= days
                    and set(report.belligerents) & set(incident.belligerents)
                    and distance_km(incident.lat, incident.lon, report.lat, report.lon)
                    <= radius_km):
                found += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    radius, days = 15.0, 1
    rng = random.Random(3)
    incidents = []
    for number in range(args.incidents):
        _, _, prefix, lat, lon = PLACES[number % len(PLACES)]
        incidents.append(Located(
            key=f"I{number}", day=START + dt.timedelta(days=rng.randrange(3000)),
            belligerents=(COALITION if prefix != "RS" else "Russian Military",),
            lat=lat + rng.uniform(-0.3, 0.3), lon=lon + rng.uniform(-0.3, 0.3)))
    gazetteer = load_gazetteer(None)
    records = synthetic_reports(args.reports)
    located = []
    for record in records:
        if record.lat is not None and record.lon is not None:
            located.append(Located(key=record.reference, day=record.strike_date,
                                   belligerents=(record.belligerent,), lat=record.lat,
                                   lon=record.lon))
        else:
            place = gazetteer.locate(record.place or "")
            if place is not None:
                located.append(Located(key=record.reference, day=record.strike_date,
                                       belligerents=(record.belligerent,), lat=place.lat,
                                       lon=place.lon))

    start = time.perf_counter()
    found = match(incidents, located, radius_km=radius, days=days)
    indexed = time.perf_counter() - start
    sample = incidents[:args.sample]
    start = time.perf_counter()
    naive(sample, located, radius, days)
    naive_sample = time.perf_counter() - start
    naive_full = naive_sample * len(incidents) / len(sample)

    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
        app = imported_store(file, Path(folder) / "verify.sqlite")
        service = StrikeReports(app)
        for _ in service.import_rows(((n, r, None) for n, r in enumerate(records, 1)), "bench"):
            pass
        app.catch_up()
        start = time.perf_counter()
        store_found, counts = service.candidates(gazetteer, radius_km=radius, days=days)
        whole = time.perf_counter() - start
        app.close()

    print(f"{args.incidents} incidents x {args.reports} strike reports, within {radius:g} km "
          f"and {days} day(s)")
    print(f"  {'':<52}{'seconds':>10}")
    print(f"  {'matcher, day and grid index':<52}{indexed:>10.2f}   ({len(found)} candidates)")
    print(f"  {'naive, every pair (baseline, scaled from ' + str(args.sample) + ')':<52}"
          f"{naive_full:>10.0f}")
    print(f"  {'verify strikes match, whole path on SQLite':<52}{whole:>10.2f}   "
          f"({len(store_found)} candidates; {counts['incidents_without_strike']} incidents "
          f"without a strike)")
    print(f"  speed-up of the index over the naive scan: {naive_full / indexed:,.0f}x")


if __name__ == "__main__":
    main()
