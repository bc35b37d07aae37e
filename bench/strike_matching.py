"""Matching strike reports to incidents at scale, beside comparing every pair.

    python bench/strike_matching.py [--incidents 100000] [--reports 100000]

1. The built-in gazetteer (GeoNames' places): reading Syria's and Iraq's, and
   every country's; placing the reports (a third name only a town), and
   placing every incident by its location as analysts write it ("Bakery 3,
   Tabqa"), each different, so none is found in the cache of names.
2. The matcher alone (domain objects in memory): the day-and-grid index over
   all reports, against the naive scan of every (incident, report) pair,
   timed on a sample of incidents and scaled to the full set.
3. The whole `verify strikes match` path on a SQLite store holding the same
   numbers of incidents and reports (reading the events, the read model, the
   gazetteer, placing and matching), without --apply.
4. The cold start of `verify strikes match` on a store of an incident in Syria
   and one in Iraq named only by words, beside that of `verify strikes list`
   (which reads no gazetteer) as its baseline; then with an incident in a
   country the gazetteer does not know, for which every country is read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verify.adapters.gazetteer import load_gazetteer
from verify.application.base import fewer_collections
from verify.application.strike_reports import Placer, StrikeReports
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


ANALYST_WORDS = ("Bakery {number}, {place}", "{place}, slaughterhouse {number}",
                 "Carwash near the market {number}, {place}",
                 "{place} countryside, house {number}")
"""How analysts write a location: a building or an area, and the town, in either order."""


def cold_start(command: list[str]) -> float:
    """Seconds for a fresh process to run a command (best of three)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    radius, days = 15.0, 1

    start = time.perf_counter()
    gazetteers = load_gazetteer(None)
    gazetteer = gazetteers.covering(["Syria", "Iraq"])
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    everywhere = gazetteers.covering(["a country the gazetteer does not know"])
    loaded_all = time.perf_counter() - start
    placer = Placer(gazetteer)

    rng = random.Random(3)
    incidents = []
    for number in range(args.incidents):
        _, _, prefix, lat, lon = PLACES[number % len(PLACES)]
        incidents.append(Located(
            key=f"I{number}", day=START + dt.timedelta(days=rng.randrange(3000)),
            belligerents=(COALITION if prefix != "RS" else "Russian Military",),
            lat=lat + rng.uniform(-0.3, 0.3), lon=lon + rng.uniform(-0.3, 0.3)))
    records = synthetic_reports(args.reports)
    start = time.perf_counter()
    located = [found for found, _ in map(placer.report, records) if found is not None]
    placing_reports = time.perf_counter() - start

    # Every incident's location written as analysts write it, each one different.
    start = time.perf_counter()
    placed_by_name = 0
    for number in range(args.incidents):
        place, country, _, _, _ = PLACES[number % len(PLACES)]
        words = ANALYST_WORDS[number % len(ANALYST_WORDS)].format(place=place, number=number)
        found, _ = placer.incident({"code": f"I{number}", "date": "2017-03-17",
                                    "country": country, "belligerents": [COALITION],
                                    "location": {"name": words}})
        placed_by_name += found is not None
    placing_incidents = time.perf_counter() - start

    start = time.perf_counter()
    with fewer_collections():  # as StrikeReports.candidates runs it
        found = match(incidents, located, radius_km=radius, days=days)
    indexed = time.perf_counter() - start
    sample = incidents[:args.sample]
    start = time.perf_counter()
    naive(sample, located, radius, days)
    naive_sample = time.perf_counter() - start
    naive_full = naive_sample * len(incidents) / len(sample)

    with tempfile.TemporaryDirectory() as folder:
        verify = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
                  "--store", str(Path(folder) / "cold.sqlite")]
        subprocess.run([*verify, "init"], check=True, capture_output=True)
        for code, location, country in (("CS1", "Bakery, Tabqa", "Syria"),
                                         ("CI2", "Mosul al-Jadida, Mosul", "Iraq")):
            subprocess.run([*verify, "report", code, "--date", "2017-03-17", "--location",
                            location, "--country", country], check=True, capture_output=True)
        listing = cold_start([*verify, "strikes", "list"])
        matching = cold_start([*verify, "strikes", "match"])
        subprocess.run([*verify, "report", "CX3", "--date", "2017-03-17", "--location",
                        "Tabqa", "--country", "Narnia"], check=True, capture_output=True)
        matching_all = cold_start([*verify, "strikes", "match"])
        file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
        app = imported_store(file, Path(folder) / "verify.sqlite")
        service = StrikeReports(app)
        for _ in service.import_rows(((n, r, None) for n, r in enumerate(records, 1)), "bench"):
            pass
        app.catch_up()
        start = time.perf_counter()
        store_found, counts = service.candidates(load_gazetteer(None), radius_km=radius,
                                                 days=days)
        whole = time.perf_counter() - start
        app.close()

    print(f"{args.incidents} incidents x {args.reports} strike reports, within {radius:g} km "
          f"and {days} day(s); the built-in gazetteer ({len(everywhere):,} places, "
          f"{len(gazetteer):,} of them in Syria and Iraq or added by the demo)")
    print(f"  {'':<52}{'seconds':>10}")
    print(f"  {'gazetteer: Syria and Iraq read':<52}{loaded:>10.2f}")
    print(f"  {'gazetteer: every country read':<52}{loaded_all:>10.2f}")
    print(f"  {'placing the reports (a third by a town name)':<52}{placing_reports:>10.2f}   "
          f"({len(located)} of {len(records)} placed)")
    print(f"  {'placing incidents by name, every name different':<52}{placing_incidents:>10.2f}"
          f"   ({placed_by_name} of {args.incidents} placed: "
          f"{args.incidents / placing_incidents:,.0f} a second)")
    print(f"  {'matcher, day and grid index':<52}{indexed:>10.2f}   ({len(found)} candidates)")
    print(f"  {'naive, every pair (baseline, scaled from ' + str(args.sample) + ')':<52}"
          f"{naive_full:>10.0f}")
    print(f"  {'verify strikes match, whole path on SQLite':<52}{whole:>10.2f}   "
          f"({len(store_found)} candidates; {counts['incidents_without_strike']} incidents "
          f"without a strike)")
    print(f"  {'cold start: verify strikes list (baseline)':<52}{listing:>10.2f}")
    print(f"  {'cold start: verify strikes match (Syria, Iraq read)':<52}{matching:>10.2f}")
    print(f"  {'cold start: ... a country unknown (every one read)':<52}{matching_all:>10.2f}")
    print(f"  speed-up of the index over the naive scan: {naive_full / indexed:,.0f}x")


if __name__ == "__main__":
    main()
