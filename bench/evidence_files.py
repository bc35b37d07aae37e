"""Evidence files: adding a large file beside sha256 and cp of it; finding look-alikes.

    python bench/evidence_files.py [--megabytes 1024] [--hashes 100000]

1. Writes a file of random bytes, then adds it to an incident the way
   `verify evidence add` does (read in chunks, hashed, written to the file
   store through a temporary file). Baselines, same run: hashlib's SHA-256 of
   the same file, and a plain copy of it (shutil.copyfile).
2. Records that many image files (their hashes only: `similar` reads no
   bytes) across incidents, then times `evidence similar` for one of them.
   Baseline, same run: a linear scan of the same hashes held in a Python list.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.domain.evidence_files import LOOKS_ALIKE, FileFacts, hash_distance
from verify.domain.incident import Incident
from verify.domain.values import CasualtyRange, Location


def large_file(folder: Path, megabytes: int) -> tuple[float, float, float]:
    """Seconds to add the file, to hash it, and to copy it."""
    source = folder / "large.bin"
    with source.open("wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(1024 * 1024))
    os.environ["VERIFY_FILES"] = str(folder / "files")
    app = VerifyApp(env=parse_store(str(folder / "store.sqlite")).env())
    app.report_incident(code="CS1", date=dt.date(2017, 3, 21), country="Syria",
                        location=Location(name="Tabqa"), belligerents=[],
                        killed=CasualtyRange(), injured=CasualtyRange(), summary=None,
                        actor="bench")
    start = time.perf_counter()
    with source.open("rb") as stream:
        app.add_file("CS1", stream, "bench", name=source.name)
    added = time.perf_counter() - start
    app.close()
    start = time.perf_counter()
    digest = hashlib.sha256()
    with source.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    hashed = time.perf_counter() - start
    start = time.perf_counter()
    shutil.copyfile(source, folder / "copy.bin")
    copied = time.perf_counter() - start
    return added, hashed, copied


def look_alikes(folder: Path, count: int) -> tuple[float, float, int]:
    """Seconds for `similar` over ``count`` recorded images, and for a list scan."""
    rng = random.Random(7)
    hashes = [f"{rng.getrandbits(64):016x}" for _ in range(count)]
    app = VerifyApp(env=parse_store(str(folder / "hashes.sqlite")).env())
    batch = []
    for number, phash in enumerate(hashes, start=1):
        incident = Incident.report(code=f"CS{number}", date=dt.date(2017, 3, 21),
                                   country="Syria", location=Location(name="Tabqa"),
                                   belligerents=[], killed=CasualtyRange(),
                                   injured=CasualtyRange(), summary=None, actor="bench")
        incident.collect_file(FileFacts(
            sha256=hashlib.sha256(phash.encode()).hexdigest(), size=1000,
            media_type="image/jpeg", collected_by="bench",
            collected_at=dt.datetime(2017, 3, 22, tzinfo=dt.UTC), phash=phash), "bench")
        batch.append(incident)
        if len(batch) == 1000:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)
    start = time.perf_counter()
    found = app.similar_files("CS1", "e1")
    ours = time.perf_counter() - start
    app.close()
    start = time.perf_counter()
    wanted = hashes[0]
    scanned = [other for other in hashes[1:] if hash_distance(wanted, other) <= LOOKS_ALIKE]
    baseline = time.perf_counter() - start
    assert len(scanned) == len(found), (len(scanned), len(found))
    return ours, baseline, len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--hashes", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        added, hashed, copied = large_file(Path(folder), args.megabytes)
    mb = args.megabytes
    print(f"a {mb} MB file; SQLite store, local file folder")
    print(f"  {'':<36}{'seconds':>9}{'MB/s':>9}")
    print(f"  {'verify evidence add':<36}{added:>9.2f}{mb / added:>9.0f}")
    print(f"  {'hashlib sha256 of it (baseline)':<36}{hashed:>9.2f}{mb / hashed:>9.0f}")
    print(f"  {'shutil.copyfile of it (baseline)':<36}{copied:>9.2f}{mb / copied:>9.0f}")
    with tempfile.TemporaryDirectory() as folder:
        ours, baseline, found = look_alikes(Path(folder), args.hashes)
    print(f"{args.hashes} images' difference hashes across as many incidents; "
          f"{found} within {LOOKS_ALIKE} bits")
    print(f"  {'verify evidence similar':<36}{ours:>9.2f}")
    print(f"  {'linear scan of a list (baseline)':<36}{baseline:>9.2f}")


if __name__ == "__main__":
    main()
