"""Write a synthetic archive of N incidents as JSON Lines: python bench/generate.py N FILE"""

from __future__ import annotations

import sys
from pathlib import Path

from verify.demo.synthetic import write_archive


def main() -> None:
    count, path = int(sys.argv[1]), Path(sys.argv[2])
    write_archive(path, count)
    print(f"wrote {count} incidents to {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
