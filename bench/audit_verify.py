"""`audit verify` over a million stored events, beside merely reading the same rows.

    python bench/audit_verify.py [--events 1000000] [--encrypted]

Fills a SQLite store through the bulk import (about 5.9 events an incident)
until it holds at least the requested number of events, then times
`verify audit verify` (recompute the hash chain, check snapshots) and, as the
baseline in the same run, a plain read of the same rows (events and chain) with no hashing.
With --encrypted the store has a cipher key, and the audit also decrypts every
event where it stands.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from verify.application.auditing import Auditor
from verify.demo.synthetic import imported_store, write_archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--encrypted", action="store_true",
                        help="encrypt the store (VERIFY_CIPHER_KEY), as deployments may")
    args = parser.parse_args()
    if args.encrypted:
        from verify.adapters.store import new_cipher_key

        os.environ["VERIFY_CIPHER_KEY"] = new_cipher_key()
    incidents = int(args.events / 5.9) + 1000
    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", incidents)
        store = Path(folder) / "verify.sqlite"
        app = imported_store(file, store)
        file.unlink()

        start = time.perf_counter()
        report = Auditor(app, str(store)).verify()
        verify_seconds = time.perf_counter() - start
        assert report["intact"], report

        start = time.perf_counter()
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
            read = 0
            for table, key in (("stored_events", "rowid"), ("event_chain", "notification_id")):
                cursor = db.execute(f"SELECT * FROM {table} ORDER BY {key}")
                while rows := cursor.fetchmany(20_000):
                    read += len(rows)
        read //= 2
        read_seconds = time.perf_counter() - start
        app.close()
    events = report["events"]
    print(f"{events} events in {incidents} incidents, SQLite, "
          f"{report['snapshots_checked']} snapshots"
          + (f", encrypted ({report['encrypted_checked']} decrypted where they stand)"
             if args.encrypted else ""))
    print(f"  {'':<40}{'seconds':>9}{'events/s':>12}")
    print(f"  {'verify audit verify':<40}{verify_seconds:>9.2f}{events / verify_seconds:>12,.0f}")
    print(f"  {'read the same rows, no hashing (baseline)':<40}{read_seconds:>9.2f}"
          f"{read / read_seconds:>12,.0f}")
    print(f"  head {report['head']}")


if __name__ == "__main__":
    main()
