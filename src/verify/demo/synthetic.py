"""Synthetic incident archives for benchmarks and tests: realistic shape, made-up content.

Deterministic for a given seed, streamed line by line, about six events an
incident when imported (a report, sources, corroboration, a strike, a grade).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from verify.application.app import VerifyApp

PLACES = (
    ("Mosul", "Iraq", "CI", 36.34, 43.13), ("الموصل", "Iraq", "CI", 36.35, 43.12),
    ("Raqqa", "Syria", "CS", 35.95, 39.01), ("الرقة", "Syria", "CS", 35.96, 39.00),
    ("Tabqa", "Syria", "CS", 35.84, 38.55), ("Hajin", "Syria", "CS", 34.69, 40.83),
    ("Aleppo", "Syria", "RS", 36.20, 37.16), ("Idlib", "Syria", "RS", 35.93, 36.63),
    ("Fallujah", "Iraq", "CI", 33.35, 43.78), ("Deir ez-Zor", "Syria", "RS", 35.33, 40.14),
)
BELLIGERENTS = {"CI": "US-led Coalition", "CS": "US-led Coalition", "RS": "Russian Military"}
PUBLISHERS = ("Local monitoring network", "Regional news", "Civil defence", "Hospital source",
              "Human rights group", "Wire service", "شبكة محلية", "Witness via council")
KINDS = ("media", "ngo", "social", "witness", "official")


GIVEN_NAMES = ("Ahmad", "أحمد", "Fatima", "فاطمة", "Omar", "عمر", "Zainab", "زينب", "Hamid",
               "Layla", "ليلى", "Samir", "Huda", "هدى", "Yusuf", "يوسف")
FAMILY_NAMES = ("al-Hassan", "الحسن", "Khalil", "خليل", "al-Ubaidi", "العبيدي", "Saleh",
                "al-Jabouri", "الجبوري", "Haddad")


def victims(number: int, count: int, sources: int) -> list[dict[str, Any]]:
    """``count`` victims of incident ``number``, named as monitoring groups list them (some
    in Arabic script, some unnamed), each citing one or two of its ``sources``."""
    rng = random.Random(number)  # its own draws: the incidents stay as they were
    found = []
    for index in range(count):
        victim: dict[str, Any] = {"status": "killed" if rng.random() < 0.85 else "injured",
                                  "gender": rng.choice(("female", "male")),
                                  "sources": [f"s{1 + index % sources}"]}
        if rng.random() < 0.8:
            victim["name"] = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
        if rng.random() < 0.6:
            victim["age"] = rng.randint(0, 90)
        else:
            victim["age_group"] = rng.choice(("child", "adult", "elderly"))
        found.append(victim)
    return found


def incident(number: int, rng: random.Random, victim_count: int = 0) -> dict[str, Any]:
    """One incident record in the import format (with ``victim_count`` victims)."""
    place, country, prefix, lat, lon = PLACES[number % len(PLACES)]
    belligerent = BELLIGERENTS[prefix]
    day = dt.date(2014, 8, 8) + dt.timedelta(days=number % 3000)
    low = rng.randint(0, 40)
    sources = []
    for index in range(rng.choice((2, 3, 3, 4))):
        sources.append({
            "url": f"https://example.org/{prefix.lower()}{number}/{index}",
            "publisher": rng.choice(PUBLISHERS),
            "kind": rng.choice(KINDS),
            "reliability": rng.choice("ABBCCDF"),
            "credibility": rng.choice((1, 2, 2, 3, 3, 4, 6)),
            "group": rng.choice((None, None, "wire", "network")),
            "protected": rng.random() < 0.1,
            "published": day.isoformat(),
        })
    record: dict[str, Any] = {
        "code": f"{prefix}{number}",
        "date": day.isoformat(),
        "country": country,
        "location": {"name": f"{place} district {number % 37}",
                     "lat": round(lat + rng.uniform(-0.1, 0.1), 4),
                     "lon": round(lon + rng.uniform(-0.1, 0.1), 4),
                     "precision": rng.choice(("neighbourhood", "village", "town"))},
        "belligerents": [belligerent],
        "civilians_killed": {"min": low, "max": low + rng.randint(0, 20)},
        "civilians_injured": {"min": None, "max": rng.choice((None, 5, 12))},
        "summary": f"Strike reported near {place}; residents describe damage to homes.",
        "sources": sources,
    }
    if rng.random() < 0.8:
        record["strike"] = {"status": rng.choice(("declared", "likely")),
                            "belligerent": belligerent,
                            "report": f"Strike report {day.isoformat()}"}
    if rng.random() < 0.4:
        record["assessments"] = [{"belligerent": belligerent,
                                  "outcome": rng.choice(("non_credible", "not_yet_assessed")),
                                  "reason": "under review"}]
    if rng.random() < 0.3:
        record["grade"] = {"grade": rng.choice(("fair", "weak", "contested")),
                           "rationale": "graded in the archive", "rule": None}
    if victim_count:
        record["victims"] = victims(number, victim_count, len(sources))
    return record


def archive(count: int, seed: int = 2017, victim_count: int = 0) -> Iterator[bytes]:
    """``count`` JSON Lines, each ending in a newline."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        yield orjson.dumps(incident(number, rng, victim_count)) + b"\n"


def write_archive(path: Path, count: int, seed: int = 2017, victim_count: int = 0) -> Path:
    """Write ``count`` synthetic incidents to ``path`` as JSON Lines."""
    with path.open("wb") as out:
        for line in archive(count, seed, victim_count):
            out.write(line)
    return path


def imported_store(archive_file: Path, store: Path) -> VerifyApp:
    """A SQLite store holding an archive, imported as `verify import` does (for benchmarks)."""
    from verify.adapters.bulk_import import import_file
    from verify.adapters.interchange import read_rows
    from verify.adapters.store import parse_store
    from verify.application.app import VerifyApp
    from verify.application.intake import Intake
    from verify.application.messages import today_utc

    env = parse_store(str(store)).env()
    app = VerifyApp(env=env)
    intake = Intake(today=today_utc(), parties=app.party_names())
    for _ in import_file(app, env, read_rows(archive_file, intake), archive_file,
                         actor="bench", dry_run=False, parallel=True, intake=intake):
        pass
    return app
