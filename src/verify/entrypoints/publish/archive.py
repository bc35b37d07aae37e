"""Writes the static public archive: pages, exports, the seal and each incident's proof.

Everything published comes through the application's public forms: the
records of the public export (`export_records(public=True)`, which leaves out
protected sources, victims and files, notes and the team's casework), the
statistics as `verify stats` gives them, the seal of `audit seal` and the
inclusion proofs of `audit prove`. Nothing here filters a record by hand.

The records are read first, then the log is sealed, then proven: every
incident read was reported before the seal, so every page has its proof.
Links are relative (``incidents/CS1095.html``, ``../index.html``), so the
archive opens from the file system or any static host, with no JavaScript.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from verify.adapters.interchange import write_csv, write_geojson, write_jsonl
from verify.application.app import VerifyApp
from verify.application.auditing import Auditor
from verify.application.readmodels import STATS_GROUPINGS
from verify.application.records import IncidentRecord
from verify.application.releases import Releases
from verify.domain.chain import Seal
from verify.domain.proofs import PublishedRoot, parse_root
from verify.domain.values import Grade, State
from verify.entrypoints.publish.pages import Pages
from verify.entrypoints.publish.proofs import prove_all
from verify.entrypoints.publish.world import Point, drawing
from verify.entrypoints.web.app import monthly_chart

PAGE_SIZE = 200
"""Incidents on one page of a listing."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Listed:
    """An incident as the listings, the map and the filters need it."""

    code: str
    date: str
    place: str
    country: str
    state: str
    grade: str
    killed_min: int | None
    killed_max: int | None
    lat: float | None
    lon: float | None

    @classmethod
    def of(cls, record: IncidentRecord, state: str) -> Listed:
        return cls(record.code, record.date.isoformat(), record.location.name, record.country,
                   state, record.grade.grade.value if record.grade else "ungraded",
                   record.civilians_killed.min, record.civilians_killed.max,
                   record.location.lat, record.location.lon)


@dataclass(frozen=True)
class Named:
    """A victim named in a public record, and the incident that records them."""

    code: str
    name: str
    status: str
    age: int | None


@dataclass(frozen=True)
class Listing:
    """One filter of the index (all incidents, a state, a grade, a country, a month)."""

    slug: str
    kind: str
    """``all``, or the filter's grouping: state, grade, country, month."""
    value: str
    codes: list[str]

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.codes) // PAGE_SIZE))

    def path(self, page: int) -> str:
        """Where page ``page`` (from 1) is written, from a language's root."""
        return "index.html" if self.kind == "all" and page == 1 else \
            f"lists/{self.slug}-{page}.html"


@dataclass
class Report:
    """What was written, for the command to say."""

    incidents: int = 0
    proofs: int = 0
    files: int = 0
    bytes: int = 0
    languages: list[str] = field(default_factory=list)
    seal: dict[str, Any] = field(default_factory=dict)
    export_sha256: str = ""
    """The SHA-256 of the JSON Lines export written: a release's own when they match."""


def slugs(names: list[str]) -> dict[str, str]:
    """A file name for each name: its letters in ASCII, made unique by a short hash when
    two fold alike or none is left (an Arabic country name, say)."""
    folded = {}
    for name in names:
        ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        folded[name] = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:40]
    counts = Counter(folded.values())
    return {name: slug if slug and counts[slug] == 1 else
            f"{slug or 'x'}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
            for name, slug in folded.items()}


class Publisher:
    """One publication of one store into one folder."""

    def __init__(self, app: VerifyApp, folder: Path, *, proofs: bool = True,
                 progress: Progress | None = None, release: str | None = None) -> None:
        self.app = app
        self.release = Releases(app, "archive").named(release) if release is not None else None
        """The release published, as the register recorded it; None for the log as it is."""
        self.folder = folder
        self.with_proofs = proofs
        self.progress = progress or (lambda done: None)
        self.pages = Pages()
        self.report = Report(languages=self.pages.languages)
        self.writer = Writer()
        self.listed: list[Listed] = []
        self.named: list[Named] = []

    # ------------------------------------------------------------------ the whole

    def publish(self) -> Report:
        """Write the archive; the steps' order is what makes every proof match its page."""
        for folder in ("incidents", "lists", "exports"):
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
        with self.writer:
            self._records()
            self.report.export_sha256 = _sha256(self.folder / "exports/incidents.jsonl")
            self.report.seal = self._seal()
            self._proofs(self.report.seal)
            self._exports()
            self._listings()
            self._statistics()
            self._map()
            self._victims()
            self._seal_page(self.report.seal)
            self._assets()
        return self.report

    # ----------------------------------------------------------------- the steps

    def _records(self) -> None:
        """Each public record: its page in every language and a line of the JSON Lines export."""
        with self._open("exports/incidents.jsonl") as out:
            write_jsonl(self._each_record(), out)

    def _each_record(self) -> Iterator[IncidentRecord]:
        published = self.app.export_records(public=True) if self.release is None else \
            Releases(self.app, "archive").export_records(self.release["name"])
        for record, state in published:
            document = record.document()
            self.listed.append(Listed.of(record, state))
            self.named.extend(
                Named(record.code, victim.name, victim.status.value, victim.age)
                for victim in record.victims if victim.name)
            self._page(f"incidents/{record.code}.html", "incident.html", record=document,
                       state=state, proof=self.with_proofs)
            self.report.incidents += 1
            self.progress(1)
            yield record

    def _seal(self) -> dict[str, Any]:
        """The log sealed as `audit seal` seals it, told without the store's own path; for a
        release, the seal it recorded (its proofs are checked against it in `_proofs`)."""
        if self.release is not None:
            sealed = self.release
            at = dt.datetime.fromisoformat(sealed["at"]).astimezone(dt.UTC)
        else:
            sealed = Auditor(self.app, "archive").seal()
            at = dt.datetime.strptime(sealed["at"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.UTC)
        seal = Seal(sealed["events"], parse_root(sealed["head"]),
                    parse_root(sealed["merkle_root"]))
        document = {key: sealed[key] for key in ("events", "head", "merkle_root")}
        document["at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        document["line"] = seal.line("archive", at)
        if self.release is not None:
            document["release"] = {key: self.release[key] for key in
                                   ("name", "notes", "position", "export_sha256")}
        self._write("seal.json", orjson.dumps(document, option=orjson.OPT_INDENT_2))
        return document

    def _proofs(self, seal: dict[str, Any]) -> None:
        """Each incident's proof against the seal; without proofs, a release's seal is still
        checked against the log (refused when its first events no longer give the root)."""
        sealed = PublishedRoot(parse_root(seal["merkle_root"]), seal["events"])
        if not self.with_proofs:
            if self.release is not None:
                for _ in prove_all(self.app, [], sealed):
                    pass  # nothing to prove: the walk checks the root
            return
        for code, proof in prove_all(self.app, [item.code for item in self.listed], sealed):
            self._write(f"incidents/{code}.proof.json", orjson.dumps(proof))
            self.report.proofs += 1

    def _exports(self) -> None:
        """CSV and GeoJSON read back from the JSON Lines just written: one pass over the store."""
        states = {item.code: item.state for item in self.listed}

        def records() -> Iterator[IncidentRecord]:
            with (self.folder / "exports/incidents.jsonl").open("rb") as lines:
                for line in lines:
                    yield IncidentRecord.model_validate_json(line)

        with self._open("exports/incidents.csv") as out:
            write_csv(records(), out)
        with self._open("exports/incidents.geojson") as out:
            write_geojson(((record, states[record.code]) for record in records()), out)

    def _listings(self) -> None:
        ordered = sorted(self.listed, key=lambda item: (item.date, item.code), reverse=True)
        by_code = {item.code: item for item in ordered}
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for item in ordered:
            groups["state", item.state].append(item.code)
            groups["grade", item.grade].append(item.code)
            groups["country", item.country].append(item.code)
            groups["month", item.date[:7]].append(item.code)
        countries = slugs(sorted(value for kind, value in groups if kind == "country"))
        listings = [Listing("all", "all", "", [item.code for item in ordered])]
        order = {"state": [s.value for s in State],
                 "grade": [*(g.value for g in Grade), "ungraded"]}
        for kind in ("state", "grade", "country", "month"):
            present = sorted((value for k, value in groups if k == kind),
                             reverse=kind == "month")  # the latest month first
            values = [v for v in order[kind] if (kind, v) in groups] if kind in order \
                else present
            for value in values:
                slug = f"country-{countries[value]}" if kind == "country" else f"{kind}-{value}"
                listings.append(Listing(slug, kind, value, groups[kind, value]))
        filters = {kind: [listing for listing in listings if listing.kind == kind]
                   for kind in ("state", "grade", "country", "month")}
        for listing in listings:
            for page in range(1, listing.pages + 1):
                shown = [by_code[code] for code in
                         listing.codes[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]]
                self._page(listing.path(page), "index.html", listing=listing, page=page,
                           incidents=shown, filters=filters, total=len(self.listed))

    def _statistics(self) -> None:
        position = self.release["position"] if self.release is not None else None
        figures = {by: self.app.stats(by=by, position=position) for by in STATS_GROUPINGS}
        self._page("stats.html", "stats.html", figures=figures,
                   chart=monthly_chart(figures["month"]))

    def _map(self) -> None:
        located = [Point(item.code, item.lat, item.lon, item.country) for item in self.listed
                   if item.lat is not None and item.lon is not None]
        self._page("map.html", "map.html", map=drawing(located), total=len(self.listed))

    def _victims(self) -> None:
        named = sorted(self.named, key=lambda victim: (victim.code, victim.name))
        self._page("victims.html", "victims.html", victims=named)

    def _seal_page(self, seal: dict[str, Any]) -> None:
        self._page("seal.html", "seal.html", seal=seal, proofs=self.report.proofs)

    def _assets(self) -> None:
        web = resources.files("verify.entrypoints.web") / "templates"
        own = resources.files("verify.entrypoints.publish") / "templates"
        self._write("style.css", (web / "style.css").read_bytes()
                    + (own / "archive.css").read_bytes())

    # ------------------------------------------------------------------ writing

    def _page(self, path: str, template: str, **context: Any) -> None:
        """The page at ``path`` (from a language's root) in every language."""
        for language, text in self.pages.render(path, template, **context):
            prefix = "" if language == self.pages.languages[0] else f"{language}/"
            self._write(prefix + path, text.encode())

    def _write(self, path: str, content: bytes) -> None:
        self.writer.write(self.folder / path, content)
        self.report.files += 1
        self.report.bytes += len(content)

    def _open(self, path: str) -> _Counted:
        self.report.files += 1
        return _Counted(self.folder / path, self.report)


class Writer:
    """Writes files on a few threads: creating a file waits on the file system (about half
    a millisecond each here), and an archive of 100,000 incidents creates 300,000."""

    THREADS = 4
    PENDING = 2_000
    """Files handed over and not yet written, at most: the rest wait their turn."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="publish")
        self.pending: deque[Future[None]] = deque()

    def write(self, target: Path, content: bytes) -> None:
        while len(self.pending) >= self.PENDING:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(_write_file, target, content))

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()  # the first error a write met, raised here
        finally:
            self.pool.shutdown(cancel_futures=True)


def _write_file(target: Path, content: bytes) -> None:
    try:
        target.write_bytes(content)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


class _Counted:
    """A file written by a writer of the interchange format, its bytes counted."""

    def __init__(self, path: Path, report: Report) -> None:
        self.path = path
        self.report = report

    def __enter__(self) -> Any:
        self.stream = self.path.open("wb")
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        self.report.bytes += self.path.stat().st_size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as content:
        while chunk := content.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def empty_or_missing(folder: Path) -> bool:
    """Whether ``folder`` can take an archive without writing over anything."""
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


__all__ = ["PAGE_SIZE", "Publisher", "Report", "empty_or_missing"]
