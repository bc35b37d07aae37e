"""The static public archive of a large store: how long `verify publish` takes, and how big.

    python bench/publish.py [--incidents 100000] [--store FILE]

Builds a store from a synthetic archive (or takes one given with --store, left
as it is), then runs `verify publish` as a user runs it (a new process, with its
progress bar off), with each incident's inclusion proof and without. Prints the
seconds, the files and megabytes written and the share the proofs take. The
baselines, in the same run: `verify export --public` to a file (the one pass over
the incidents the archive also makes) and `verify audit seal` (the pass over the
log it also makes); what publishing adds beyond them is the pages and the proofs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verify.demo.synthetic import imported_store, write_archive

VERIFY = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]


def timed_run(store: Path, *args: str) -> float:
    env = {**os.environ, "VERIFY_STORE": str(store)}
    start = time.perf_counter()
    subprocess.run([*VERIFY, *args], env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def size_of(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--store", type=Path, help="Publish this SQLite store instead.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        store = args.store
        if store is None:
            store = work / "bench.sqlite"
            started = time.perf_counter()
            imported_store(write_archive(work / "archive.jsonl", args.incidents), store).close()
            print(f"built a store of {args.incidents:,} incidents in "
                  f"{time.perf_counter() - started:.0f} s")
        rows = []
        for label, target, extra in (("verify publish DIR", work / "with", ()),
                                     ("verify publish DIR --no-proofs", work / "without",
                                      ("--no-proofs",))):
            seconds = timed_run(store, "publish", str(target), *extra)
            files, size = size_of(target)
            rows.append((label, seconds, files, size))
        proofs = sorted((work / "with" / "incidents").glob("*.proof.json"))
        proof_bytes = sum(path.stat().st_size for path in proofs)
        export = timed_run(store, "export", "--public", "-o", str(work / "public.jsonl"))
        seal = timed_run(store, "audit", "seal")
        print(f"{'':<44}{'seconds':>9}{'files':>10}{'MB':>9}")
        for label, seconds, files, size in rows:
            print(f"{label:<44}{seconds:>9.1f}{files:>10,}{size / 1e6:>9.1f}")
        print(f"{'export --public -o FILE (baseline)':<44}{export:>9.1f}")
        print(f"{'audit seal (baseline)':<44}{seal:>9.1f}")
        print(f"proofs: {len(proofs):,} files, {proof_bytes / 1e6:.1f} MB "
              f"({proof_bytes / max(len(proofs), 1) / 1e3:.1f} KB an incident)")


if __name__ == "__main__":
    main()
