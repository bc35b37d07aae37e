"""Merkle roots and proofs on a large store, beside a naive tree and a library's, in one run.

    python bench/proofs.py [--events 100000] [--store PATH] [--repeat 3]

Fills a SQLite store through the bulk import until it holds at least the
requested number of events (kept in --store when given: built there when it
does not exist yet, measured as it stands when it does, so a store of a million
events built once, by this bench or by `bench/changes.py --store`, serves every
run), then times each question three ways over the same stored events:

- ours: `verify.domain.merkle`'s tree, one pass over the log keeping the right
  edge (a hash per set bit of the size) and what the proof asked for, as
  `verify audit prove` runs it (`Prover`);
- naive (baseline): every leaf hash in a list, then RFC 9162's recursive
  definitions as written (MTH, PATH, SUBPROOF), each path hashing its siblings'
  subtrees again;
- pymerkle (baseline, when installed): its InmemoryTree, every leaf and node
  kept as objects, asked for the same root and proofs.

The questions: the root over every event; an inclusion proof of each event of
an incident in the middle of the log; a consistency proof from a seal at half
the log. Every answer is checked equal to ours. Then `audit seal` (the chain
audit with the tree grown in the same pass) beside `audit verify`, and reading
the rows alone, no hashing, as the floor. Seconds are the best and the median
of --repeat runs. "peak MB" is the most Python allocated at once while answering
(tracemalloc, one more run of each); "held MB" is that peak less the floor's,
which is the rows read from SQLite 20,000 at a time: what the method itself
holds.

Last, as a user runs them (a new process each time, start-up included, one
warm-up then --repeat runs; "RSS MB" is the process's peak resident memory):
`verify --store S audit prove CODE -o FILE` for the same incident and `verify
audit check-proof FILE --root "SEAL LINE"` against the seal's line, beside
`verify --version` (start-up, baseline); and `check_proof` in this process on
the file's bytes, beside reading and parsing them alone (baseline), 20 times.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from read_models import runs  # the same warm-up-then-repeat timing, beside it in bench/

from verify.application.app import VerifyApp
from verify.application.auditing import Auditor
from verify.application.proofs import Prover, check_proof
from verify.domain.incident import incident_id
from verify.domain.merkle import MerkleTree, leaf_hash, node_hash
from verify.domain.proofs import PublishedRoot, event_leaf, stored_event_leaf

VERIFY = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]
CHECKS = 20
"""How many times `check_proof` runs in this process: milliseconds, so more than --repeat."""

try:
    import pymerkle
except ImportError:  # a baseline only: the bench says it is missing and goes on
    pymerkle = None


def rows(app: VerifyApp) -> Iterator[tuple[str, int, str, bytes]]:
    for event_id, originator, version, topic, state, *_ in app.recorder.chain_rows():
        if event_id is not None:
            yield originator, version, topic, state


def leaves(app: VerifyApp) -> Iterator[tuple[str, bytes]]:
    """(record, leaf bytes) of every event, the state's SHA-256 in place of its bytes."""
    import hashlib

    for originator, version, topic, state in rows(app):
        yield originator, event_leaf(originator, version, topic, hashlib.sha256(state).digest())


# ------------------------------------------------- RFC 9162, as it is written


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes], low: int, high: int) -> bytes:
    if high - low == 1:
        return hashes[low]
    k = split(high - low)
    return node_hash(mth(hashes, low, low + k), mth(hashes, low + k, high))


def path(hashes: list[bytes], m: int, low: int, high: int) -> list[bytes]:
    if high - low == 1:
        return []
    k = split(high - low)
    if m < k:
        return [*path(hashes, m, low, low + k), mth(hashes, low + k, high)]
    return [*path(hashes, m - k, low + k, high), mth(hashes, low, low + k)]


def subproof(hashes: list[bytes], m: int, low: int, high: int, whole: bool) -> list[bytes]:
    if m == high - low:
        return [] if whole else [mth(hashes, low, high)]
    k = split(high - low)
    if m <= k:
        return [*subproof(hashes, m, low, low + k, whole), mth(hashes, low + k, high)]
    return [*subproof(hashes, m - k, low + k, high, False), mth(hashes, low, low + k)]


# ------------------------------------------------------------------ the three


class Ours:
    def __init__(self, app: VerifyApp) -> None:
        self.app = app

    def root(self) -> bytes:
        tree = MerkleTree()
        for originator, version, topic, state in rows(self.app):
            tree.append(stored_event_leaf(originator, version, topic, state))
        return tree.root()

    def prove(self, code: str) -> list[list[bytes]]:
        proof = Prover(self.app).incident(code)
        return [[bytes.fromhex(node) for node in event["path"]] for event in proof["events"]]

    def consistency(self, old_size: int, old_root: bytes) -> list[bytes]:
        proof = Prover(self.app).consistency(PublishedRoot(old_root, old_size))
        return [bytes.fromhex(node) for node in proof["path"]]


class Naive:
    def __init__(self, app: VerifyApp) -> None:
        self.app = app

    def _hashes(self, record: str = "") -> tuple[list[bytes], list[int]]:
        hashes, mine = [], []
        for originator, leaf in leaves(self.app):
            if originator == record:
                mine.append(len(hashes))
            hashes.append(leaf_hash(leaf))
        return hashes, mine

    def root(self) -> bytes:
        hashes, _ = self._hashes()
        return mth(hashes, 0, len(hashes))

    def prove(self, code: str) -> list[list[bytes]]:
        hashes, mine = self._hashes(incident_id(code).hex)
        return [path(hashes, m, 0, len(hashes)) for m in mine]

    def consistency(self, old_size: int, old_root: bytes) -> list[bytes]:
        hashes, _ = self._hashes()
        assert mth(hashes, 0, old_size) == old_root
        return subproof(hashes, old_size, 0, len(hashes), True)


class Library:
    """pymerkle's InmemoryTree: it takes each leaf's bytes and hashes them itself."""

    def __init__(self, app: VerifyApp) -> None:
        self.app = app

    def _tree(self, record: str = "") -> tuple[Any, list[int]]:
        assert pymerkle is not None
        tree = pymerkle.InmemoryTree(algorithm="sha256")
        mine = []
        for originator, leaf in leaves(self.app):
            index = tree.append_entry(leaf)
            if originator == record:
                mine.append(index)
        return tree, mine

    def root(self) -> bytes:
        tree, _ = self._tree()
        return bytes(tree.get_root())

    def prove(self, code: str) -> list[list[bytes]]:
        tree, mine = self._tree(incident_id(code).hex)
        # Its paths start with the proven leaf's own hash.
        return [list(map(bytes, tree.prove_inclusion(index).path[1:])) for index in mine]

    def consistency(self, old_size: int, old_root: bytes) -> None:
        """Its consistency proofs are its own shape (other nodes, with direction bits), not
        RFC 9162's: each is checked by its own verifier instead of compared with ours."""
        assert pymerkle is not None
        tree, _ = self._tree()
        assert tree.get_root(old_size) == old_root
        proof = tree.prove_consistency(old_size)
        pymerkle.verify_consistency(old_root, tree.get_root(), proof)


# ---------------------------------------------------------------- measuring


Measured = tuple[Any, float, float, float]
"""The answer, its best and median seconds, and the peak MB allocated while answering."""


def measured(action: Callable[[], Any], repeat: int) -> Measured:
    """The answer, its best and median seconds, and the peak MB allocated while answering."""
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        answer = action()
        samples.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    action()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return answer, min(samples), statistics.median(samples), peak


def command(words: list[str], repeat: int) -> tuple[list[float], float | None]:
    """Seconds of each run of ``verify WORDS`` as a new process (after one warm-up), and the
    most resident memory one of them took, in MB of 2^20 bytes, as GNU time tells it (a
    child of this process would count this process's own memory, copied when it forked)."""
    timer = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []
    peaks = []

    def once() -> None:
        done = subprocess.run([*timer, *VERIFY, *words], capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"verify {' '.join(words)} exited {done.returncode}: "
                             f"{done.stderr.decode(errors='replace')}")
        if timer:
            peaks.append(int(done.stderr.split()[-1]) / 1024)

    samples = runs(once, repeat)
    return samples, max(peaks) if peaks else None


def opened(store: Path, folder: Path, events: int) -> VerifyApp:
    """The store at ``store`` as it stands, or built there first through the bulk import
    (at least ``events`` events) when it does not exist."""
    if store.exists():
        from verify.adapters.store import parse_store

        return VerifyApp(env=parse_store(str(store)).env())
    from verify.demo.synthetic import imported_store, write_archive

    store.parent.mkdir(parents=True, exist_ok=True)
    file = write_archive(folder / "archive.jsonl", int(events / 5.9) + 10)
    app = imported_store(file, store)
    file.unlink()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--store", type=Path,
                        help="keep the store in this SQLite file: built there when missing, "
                        "measured as it stands when not")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store if args.store is not None else Path(folder) / "verify.sqlite"
        app = opened(store, Path(folder), args.events)
        try:
            run(app, store, Path(folder), args.repeat)
        finally:
            app.close()


def run(app: VerifyApp, store: Path, folder: Path, repeat: int) -> None:
    def measure(action: Callable[[], Any]) -> Measured:
        return measured(action, repeat)

    codes = list(app.incident_codes())
    code = codes[len(codes) // 2]
    ways: list[tuple[str, Any]] = [("ours: one pass, the right edge", Ours(app)),
                                   ("every leaf in a list, RFC recursion (baseline)", Naive(app))]
    if pymerkle is not None:
        version = importlib.metadata.version("pymerkle")
        ways.append((f"pymerkle {version} InmemoryTree (baseline)", Library(app)))
    table: list[tuple[str, float, float, float]] = []

    events, best, seconds, peak = measure(lambda: sum(1 for _ in rows(app)))
    table.append(("read the rows alone, no hashing (floor)", best, seconds, peak))
    roots = {}
    for name, way in ways:
        roots[name], best, seconds, peak = measure(way.root)
        table.append((f"root: {name}", best, seconds, peak))
    root = roots[ways[0][0]]
    assert all(found == root for found in roots.values()), "the roots differ"

    proofs = {}
    for name, way in ways:
        proofs[name], best, seconds, peak = measure(lambda way=way: way.prove(code))
        table.append((f"prove {code}: {name}", best, seconds, peak))
    assert all(found == proofs[ways[0][0]] for found in proofs.values()), "the paths differ"

    half = events // 2
    tree = MerkleTree()
    for originator, version, topic, state in rows(app):
        if tree.size == half:
            break
        tree.append(stored_event_leaf(originator, version, topic, state))
    old_root = tree.root()
    paths = {}
    for name, way in ways:
        paths[name], best, seconds, peak = measure(
            lambda way=way: way.consistency(half, old_root))
        table.append((f"consistency from {half}: {name}", best, seconds, peak))
    assert all(found in (None, paths[ways[0][0]]) for found in paths.values()), \
        "the proofs differ"

    auditor = Auditor(app, "bench")
    sealed, best, seconds, peak = measure(auditor.seal)
    table.append(("audit seal: the chain audit and the tree, one pass", best, seconds, peak))
    _, best, seconds, peak = measure(auditor.verify)
    table.append(("audit verify: the chain audit alone (baseline)", best, seconds, peak))

    print(f"{events} events in {len(codes)} incidents, SQLite; {code} has "
          f"{len(proofs[ways[0][0]])} events; root sha256:{root.hex()}")
    if pymerkle is None:
        print("  (pymerkle is not installed: its rows are left out)")
    floor = table[0][3]
    print(f"  {'':<72}{'best s':>9}{'median s':>9}{'peak MB':>9}{'held MB':>9}")
    for label, best, seconds, peak in table:
        print(f"  {label:<72}{best:>9.2f}{seconds:>9.2f}{peak:>9.1f}{peak - floor:>9.1f}")
    whole(store, folder, code, sealed["line"], repeat)


def whole(store: Path, folder: Path, code: str, line: str, repeat: int) -> None:
    """`audit prove` and `audit check-proof` as a user runs them, and the check in process."""
    file = folder / "proof.json"
    root = PublishedRoot.parse(line)
    timings: list[tuple[str, list[float], float | None]] = []
    for label, words in (
            (f"verify --store S audit prove {code} -o FILE",
             ["--store", str(store), "audit", "prove", code, "-o", str(file)]),
            ('verify audit check-proof FILE --root "SEAL LINE"',
             ["audit", "check-proof", str(file), "--root", line]),
            ("verify --version (start-up, baseline)", ["--version"])):
        samples, peak = command(words, repeat)
        timings.append((label, samples, peak))
    report = check_proof(file.read_bytes(), root)
    assert report["holds"] and report["size_checked"], report
    timings.append((f"check_proof(the file's bytes, the seal's root), in process, x{CHECKS}",
                    runs(lambda: check_proof(file.read_bytes(), root), CHECKS), None))
    timings.append(("read and parse the same bytes, no checking (baseline)",
                    runs(lambda: json.loads(file.read_bytes()), CHECKS), None))
    print(f"  the proof file: {file.stat().st_size:,} bytes; new processes, {repeat} runs each "
          "after a warm-up:")
    print(f"  {'':<72}{'best ms':>9}{'median ms':>10}{'RSS MB':>8}")
    for label, samples, rss in timings:
        print(f"  {label:<72}{min(samples) * 1000:>9.2f}"
              f"{statistics.median(samples) * 1000:>10.2f}"
              f"{'' if rss is None else f'{rss:.1f}':>8}")


if __name__ == "__main__":
    main()
