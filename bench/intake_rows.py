"""Reading archive rows: messy rows (every shape in tests/data/archive.jsonl) beside clean ones.

    python bench/intake_rows.py [--rows 4500] [--repeat 5]

Clean rows (a synthetic archive, as an export writes it) take the intake's
fast path: the strict record model accepts them as they are. Messy rows are
read field by field, each unreadable value kept verbatim with a warning. The
clean rows are the baseline, read in the same run by the same intake.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

import orjson

from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.demo.synthetic import archive

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "archive.jsonl"


def per_row(intake: Intake, rows: list[dict[str, Any]], repeat: int) -> float:
    """The best of ``repeat`` passes, in microseconds a row."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for row in rows:
            intake.read(row)
        best = min(best, time.perf_counter() - start)
    return best / len(rows) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    corpus = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    messy = (corpus * (args.rows // len(corpus) + 1))[:args.rows]
    clean = [orjson.loads(raw) for raw in archive(args.rows)]
    intake = Intake(today=today_utc())
    warnings = sum(len(intake.read(row).warnings) for row in corpus)
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    fast, lenient = per_row(intake, clean, args.repeat), per_row(intake, messy, args.repeat)
    print(f"{args.rows} rows each, best of {args.repeat} passes; the corpus's {len(corpus)} "
          f"rows give {warnings} warnings")
    print(f"  {'':<40}{'µs a row':>10}")
    print(f"  {'messy rows, read field by field':<40}{lenient:>10.0f}")
    print(f"  {'clean rows, fast path (baseline)':<40}{fast:>10.0f}")
    print(f"  ratio: {lenient / fast:.1f}x the clean row")


if __name__ == "__main__":
    main()
