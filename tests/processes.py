"""The processes of a process group, read from /proc (the crash and orphan tests share it)."""

from __future__ import annotations

from pathlib import Path


def processes_of_group(group: int) -> dict[int, int]:
    """Live (not zombie) processes of a process group, each with its parent's pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent, process_group = stat.rsplit(")", 1)[1].split()[:3]
        if int(process_group) == group and state != "Z":
            found[int(entry.name)] = int(parent)
    return found
