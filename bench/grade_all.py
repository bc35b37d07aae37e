"""`grade --all` throughput, beside grading the same incidents one transaction each.

    python bench/grade_all.py [--incidents 20000]

Two identical stores are filled from one synthetic archive; one is graded with
`grade --all` (batched transactions), the other incident by incident as
`verify grade CODE` would (the baseline).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from verify.demo.synthetic import imported_store, write_archive
from verify.domain import Refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
        batched = imported_store(file, Path(folder) / "a.sqlite")
        single = imported_store(file, Path(folder) / "b.sqlite")

        start = time.perf_counter()
        summary = batched.grade_all("bench")
        batched_seconds = time.perf_counter() - start

        waiting = [code for code in single.incident_codes() if single.show(code).grade is None]
        start = time.perf_counter()
        graded = 0
        for code in waiting:
            try:
                single.grade(code, "bench")
                graded += 1
            except Refused:
                pass
        single_seconds = time.perf_counter() - start
        assert graded == summary.graded, (graded, summary.graded)
    total = args.incidents
    print(f"{total} incidents, {summary.graded} of them ungraded and gradable "
          f"({', '.join(f'{g} {n}' for g, n in summary.by_grade.items())}); SQLite")
    print(f"  {'':<40}{'seconds':>9}{'incidents/s':>13}")
    print(f"  {'grade --all (batched)':<40}{batched_seconds:>9.1f}"
          f"{total / batched_seconds:>13,.0f}")
    print(f"  {'one transaction each (baseline)':<40}{single_seconds:>9.1f}"
          f"{total / single_seconds:>13,.0f}")
    print(f"  speed-up: {single_seconds / batched_seconds:.1f}x")


if __name__ == "__main__":
    main()
