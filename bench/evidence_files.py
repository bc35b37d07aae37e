"""Evidence files: adding a large file beside sha256sum and cp of it; finding look-alikes.

    python bench/evidence_files.py [--megabytes 1024] [--hashes 100000]

1. Writes a file of random bytes, then adds it to an incident with
   `verify evidence add`, a new process each time as a user runs it (start-up
   included): once to the local file folder, once to an S3-compatible object
   store (a real SeaweedFS on loopback, started with tests/object_store_server.py;
   skipped, saying why, without the `weed` binary). Baselines, same run:
   `sha256sum` and `cp` of the same file. Each command's peak resident memory
   is what `/usr/bin/time -f %M` prints for it. With VERIFY_CIPHER_KEY set,
   every `verify` command runs with it (files and events encrypted).
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.domain.evidence_files import LOOKS_ALIKE, FileFacts, hash_distance
from verify.domain.incident import Incident
from verify.domain.values import CasualtyRange, Location

VERIFY = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]
TESTS = Path(__file__).resolve().parent.parent / "tests"
BUCKET = "evidence-bench"

TIME = "/usr/bin/time"
"""GNU time, for peak memory: a child of this (large) Python process would count this
process's memory from before its `exec`; one of `time` starts small."""

Row = tuple[str, float, float | None]
"""A command's label, seconds and peak resident memory (MB; None without GNU time)."""


def timed(label: str, command: list[str], env: dict[str, str]) -> Row:
    """Run ``command``: its wall-clock seconds and peak resident memory (`time -f %M`)."""
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        measured = Path(TIME).is_file()
        if measured:
            command = [TIME, "-f", "%M", "-o", str(peak_file), *command]
        start = time.perf_counter()
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[-4:])} failed: "
                               + done.stderr.decode(errors="replace")[-2000:])
        peak = int(peak_file.read_text().split()[-1]) / 1024 if measured else None
    return label, seconds, peak


def verify_add(label: str, folder: Path, source: Path, files: dict[str, str]) -> Row:
    """`verify evidence add` of ``source`` to a new SQLite store whose files live as
    ``files`` says (VERIFY_FILES and what goes with it); init and report untimed."""
    env = {**os.environ, **files}
    store = ["--store", str(folder / "store.sqlite")]
    for command in (["init"], ["report", "CS1", "--date", "2017-03-21", "--location",
                               "Tabqa", "--country", "Syria"]):
        subprocess.run([*VERIFY, *store, *command], env=env, check=True, capture_output=True)
    return timed(label, [*VERIFY, *store, "evidence", "add", "CS1", str(source)], env)


def object_store_add(folder: Path, source: Path) -> Row | str:
    """The row for the S3-compatible object store, or why it was skipped."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    try:
        from object_store_server import start_seaweedfs, stop
    except ImportError as error:
        return f"tests/object_store_server.py cannot be loaded ({error})"
    try:
        server = start_seaweedfs(folder / "seaweedfs")
    except RuntimeError as error:
        return str(error)
    try:
        row = verify_add("verify evidence add, S3 (SeaweedFS)", folder, source,
                         server.env(BUCKET))
        held = server.client().list_objects_v2(Bucket=BUCKET).get("Contents", [])
        assert len(held) == 1 and held[0]["Size"] >= source.stat().st_size, held
    finally:
        stop(server)
    return row


def large_file(folder: Path, megabytes: int) -> tuple[list[Row], list[str]]:
    """Each command's row, and why any was skipped."""
    source = folder / "large.bin"
    with source.open("wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(1024 * 1024))
    rows = []
    skipped = []
    (folder / "local").mkdir()
    rows.append(verify_add("verify evidence add, local folder", folder / "local", source,
                           {"VERIFY_FILES": str(folder / "local" / "files")}))
    (folder / "s3").mkdir()
    kept = object_store_add(folder / "s3", source)
    if isinstance(kept, str):
        skipped.append(f"verify evidence add, S3: skipped, {kept}")
    else:
        rows.append(kept)
    for label, command in (("sha256sum of it (baseline)", ["sha256sum", str(source)]),
                           ("cp of it (baseline)", ["cp", str(source), str(folder / "copy")])):
        if shutil.which(command[0]) is None:
            skipped.append(f"{label}: skipped, no `{command[0]}` on PATH")
        else:
            rows.append(timed(label, command, dict(os.environ)))
    return rows, skipped


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
        rows, skipped = large_file(Path(folder), args.megabytes)
    mb = args.megabytes
    sealed = "encrypted (VERIFY_CIPHER_KEY set)" if os.environ.get(
        "VERIFY_CIPHER_KEY", "").strip() else "not encrypted"
    print(f"a {mb} MB file, {sealed}; SQLite store; whole commands, a new process each")
    print(f"  {'':<36}{'seconds':>9}{'MB/s':>9}{'peak MB':>9}")
    for label, seconds, peak in rows:
        memory = "-" if peak is None else f"{peak:.1f}"
        print(f"  {label:<36}{seconds:>9.2f}{mb / seconds:>9.0f}{memory:>9}")
    if not Path(TIME).is_file():
        print(f"  peak memory: not measured, no GNU time at {TIME}")
    for reason in skipped:
        print(f"  {reason}")
    with tempfile.TemporaryDirectory() as folder:
        ours, baseline, found = look_alikes(Path(folder), args.hashes)
    print(f"{args.hashes} images' difference hashes across as many incidents; "
          f"{found} within {LOOKS_ALIKE} bits")
    print(f"  {'verify evidence similar':<36}{ours:>9.2f}")
    print(f"  {'linear scan of a list (baseline)':<36}{baseline:>9.2f}")


if __name__ == "__main__":
    main()
