"""Write tests/data/stored-log.jsonl: one of every event type, as today's code stores it.

    python tests/stored_log.py            # only if the file does not exist yet
    python tests/stored_log.py --missing  # append the events of cases the file lacks

Events are never edited once released, so the committed log is never rewritten:
a new event type gets a new case below (a new incident, or another aggregate),
and `--missing` appends just that case's events. tests/test_stored_log.py
replays the whole file on every run, so an event shape that stops loading fails
the suite. Each line is one stored event: its originator, version, topic and
state, the state as the exact text the transcoder wrote.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.casework import Amendment
from verify.application.importing import incident_from_record
from verify.application.intake import Intake
from verify.application.releases import Releases
from verify.application.strike_reports import StrikeReports
from verify.domain.duties import Member, Role, Team
from verify.domain.strikes import StrikeReportRecord
from verify.domain.values import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    Credibility,
    DiscountFinding,
    DisputeOutcome,
    Location,
    Precision,
    Reliability,
    Source,
    StrikeConfirmation,
)

LOG = Path(__file__).resolve().parent / "data" / "stored-log.jsonl"

TEAM = Team(members={name: Member(name=name, role=Role.REVIEWER) for name in ("amira", "badr")})


def _report(app: VerifyApp, code: str, place: str = "الرقة") -> None:
    app.report_incident(code=code, date=dt.date(2017, 3, 17), country="Syria",
                        location=Location(name=place, lat=35.95, lon=39.01),
                        belligerents=["US-led Coalition"], killed=CasualtyRange(min=4, max=7),
                        injured=CasualtyRange(), summary="Strike on a house.", actor="amira")


def _source(app: VerifyApp, code: str, n: int, rating: str = "B2", **more: Any) -> str:
    source = Source(url=f"https://example.org/{code}/{n}", publisher=f"Publisher {n}",
                    kind="media", reliability=rating[0], credibility=int(rating[1]), **more)
    return app.add_source(code, source, "amira")[0]


def parties(app: VerifyApp) -> None:
    """PartyRegister: Opened, PartyAdded, AliasesAdded."""
    app.add_party("US-led Coalition", ["Coalition"], "amira")
    app.add_party("US-led Coalition", ["CJTF-OIR"], "amira")


def evidence(app: VerifyApp) -> None:
    """SL1: every kind of evidence, a graded incident, a dispute dismissed, a note."""
    _report(app, "SL1")
    _source(app, "SL1", 1, "B2", published=dt.date(2017, 3, 18))
    _source(app, "SL1", 2, "C3", group="wire")
    third = _source(app, "SL1", 3, "D4", protected=True)
    app.rerate_source("SL1", third, Reliability.C, Credibility.POSSIBLY_TRUE, "confirmed by phone",
                      "badr")
    app.withdraw_source("SL1", third, "a repost", "badr")
    app.confirm_strike("SL1", StrikeConfirmation(belligerent="Coalition", status="declared",
                                                 report="CJTF-OIR 2017-03-18"), "badr")
    app.contest("SL1", CompetingClaim(belligerent="Russian Military", reason="also flying"),
                "badr")
    app.assess("SL1", Assessment(belligerent="US-led Coalition", outcome="non_credible",
                                 reason="no strike there"), "badr")
    app.revise_harm("SL1", CasualtyRange(min=5, max=8), None, "hospital list", "badr")
    app.grade("SL1", "badr")
    app.dispute("SL1", "a researcher", "the house was empty", "amira")
    app.resolve("SL1", DisputeOutcome.DISMISSED, "neighbours saw families", "badr")
    app.add_note("SL1", "call the hospital again", "amira")


def proposal(app: VerifyApp) -> None:
    """SL2: a grade proposed under separation of duties and approved by another person."""
    _report(app, "SL2")
    _source(app, "SL2", 1)
    app.discount("SL2", DiscountFinding(basis="combatants", rationale="fighters' funerals"),
                 "amira")
    team = VerifyApp(env=app.env, team=TEAM)
    team.grade("SL2", "amira")
    team.approve("SL2", "badr")
    team.close()


def duplicate(app: VerifyApp) -> None:
    """SL3: marked a duplicate of SL1."""
    _report(app, "SL3", "Raqqa")
    app.mark_duplicate("SL3", "SL1", "amira")


def kept_verbatim(app: VerifyApp) -> None:
    """SL4: imported from an archive, with values kept verbatim."""
    reading = Intake(today=dt.date(2026, 12, 1)).read({
        "code": "SL4", "date": "17 March 2017", "country": "Syria",
        "location": {"name": "Tabqa", "lat": 35.8, "lon": 4239, "precision": "approx."},
        "civilians_killed": "at least 30", "summary": "",
        "sources": [{"url": "https://example.org/sl4", "publisher": "P", "kind": "blog",
                     "published": "31 ديسمبر 0399"}],
        "airwars_grade": "Fair"})
    assert reading.record is not None
    incident = incident_from_record(reading.record, "amira")
    app.save(incident)


def strike_report(app: VerifyApp) -> None:
    """A belligerent's strike report."""
    record = StrikeReportRecord(reference="CJTF-OIR 2017-03-18", belligerent="Coalition",
                                report_date=dt.date(2017, 3, 18),
                                strike_date=dt.date(2017, 3, 17), place="Raqqa", strikes=6,
                                text="Near Raqqa, six strikes engaged an ISIS tactical unit.")
    list(StrikeReports(app).import_rows([(1, record, None)], "amira"))


def corrections(app: VerifyApp) -> None:
    """SL5: reported over days with an hour (Reported v2), dated evidence, a claim retracted
    under a grade (RegradeDue), facts amended; SL6: a duplicate mark undone."""
    app.report_incident(code="SL5", date=dt.date(2017, 3, 17), date_end=dt.date(2017, 3, 19),
                        time="08:30", country="Iraq",
                        location=Location(name="Mosul al-Jadida"),
                        belligerents=["US-led Coalition"], killed=CasualtyRange(min=105, max=200),
                        injured=CasualtyRange(), summary="Strike on a house.", actor="amira")
    _source(app, "SL5", 1, "B2", published=dt.date(2017, 3, 18))
    _source(app, "SL5", 2, "A2", published=dt.date(2017, 3, 25))
    app.confirm_strike("SL5", StrikeConfirmation(belligerent="US-led Coalition",
                                                 status="declared", reported=dt.date(2017, 3, 28)),
                       "badr")
    app.assess("SL5", Assessment(belligerent="US-led Coalition", outcome="not_yet_assessed",
                                 dated=dt.date(2017, 3, 29)), "badr")
    app.contest("SL5", CompetingClaim(belligerent="Russian Military", reason="typed in error"),
                "badr")
    app.grade("SL5", "badr")
    app.retract("SL5", "c1", "recorded against the wrong incident", "badr")
    app.amend("SL5", Amendment(date=dt.date(2017, 3, 16), location="Mosul al-Jadida, Mosul",
                               lat=36.35, lon=43.1, precision=Precision.NEIGHBOURHOOD),
              "the map and the first report agree", "amira")
    _report(app, "SL6", "Mosul")
    app.mark_duplicate("SL6", "SL5", "amira")
    app.undo_duplicate("SL6", "a different strike the same day", "badr")


def victims(app: VerifyApp) -> None:
    """SL7: victims recorded (one protected, one unnamed), amended, withdrawn, erased."""
    _report(app, "SL7", "الطبقة")
    _source(app, "SL7", 1)
    _source(app, "SL7", 2, "C3")
    app.add_victim("SL7", {"name": "Ahmad", "name_original": "أحمد", "age": 9},
                   {"gender": "male", "sources": ["s1", "s2"]}, "amira")
    app.add_victim("SL7", {"name": "Fatima", "family": "al-Hassan"},
                   {"gender": "female", "sources": ["s1"], "protected": True}, "amira")
    app.add_victim("SL7", {}, {"age_group": "elderly", "sources": ["s2"]}, "amira")
    app.amend_victim("SL7", "v1", {"name": "Ahmad al-Hassan"}, {"status": "injured"},
                     "the hospital list", "badr")
    app.withdraw_victim("SL7", "v3", "the same person as v2", "badr")
    app.erase_victim("SL7", "v2", "the family asked", "badr")


def evidence_files(app: VerifyApp) -> None:
    """SL8: an evidence file collected and a copy taken out (the chain of custody)."""
    import io

    _report(app, "SL8", "Tabqa")
    _source(app, "SL8", 1)
    app.add_file("SL8", io.BytesIO(b"%PDF-1.7 statement of the civil defence"), "amira",
                 name="statement.pdf", source="s1", origin="https://example.org/sl8",
                 collected_by="Tabqa network",
                 collected_at=dt.datetime(2017, 3, 22, 9, 0, tzinfo=dt.UTC),
                 description="civil defence statement")
    app.copy_file("SL8", "e1", io.BytesIO(), "for the monthly report", "badr")


def casework(app: VerifyApp) -> None:
    """SL9: assigned, discussed with a mention and a reply, tagged and untagged, taken back."""
    _report(app, "SL9", "Tabqa")
    app.assign("SL9", "jonas", "amira")
    app.comment("SL9", "@jonas the strike report puts it 2 km east", "amira")
    app.comment("SL9", "checked: it matches", "jonas", reply_to="m1")
    app.tag_incident("SL9", ["needs-geolocation", "الطبقة"], "jonas")
    app.tag_incident("SL9", ["needs-geolocation"], "jonas", remove=True)
    app.assign("SL9", None, "amira")


def release(app: VerifyApp) -> None:
    """ReleaseRegister: opened with a release recorded (its seal, export digest and counts)."""
    Releases(app, "stored log").create("2017-03", "the first month, as published", "amira")


def matched(app: VerifyApp) -> None:
    """SL10: a strike matched from a report through the gazetteer (StrikeConfirmed v2, with
    how each side was placed: both at Tabqa)."""
    from verify.domain.strikes import Gazetteer, Place

    app.report_incident(code="SL10", date=dt.date(2017, 3, 22), country="Syria",
                        location=Location(name="Bakery, Tabqa (الطبقة)"),
                        belligerents=["US-led Coalition"], killed=CasualtyRange(min=2, max=2),
                        injured=CasualtyRange(), summary=None, actor="amira")
    record = StrikeReportRecord(reference="CJTF-OIR 2017-03-23", belligerent="US-led Coalition",
                                strike_date=dt.date(2017, 3, 22), place="Near Tabqa",
                                text="Near Tabqa, two strikes engaged an ISIS unit.")
    reports = StrikeReports(app)
    list(reports.import_rows([(1, record, None)], "amira"))
    tabqa = Place(name="Tabqa", lat=35.84, lon=38.55, country="SY", population=87880,
                  geonames_id=172374)
    found, _ = reports.candidates(Gazetteer([(tabqa, ["الطبقة"])]), radius_km=15, days=1)
    reports.apply([candidate for candidate in found if candidate.incident == "SL10"], "badr")


CASES: list[Callable[[VerifyApp], None]] = [parties, evidence, proposal, duplicate,
                                            kept_verbatim, strike_report, corrections, victims,
                                            evidence_files, casework, release, matched]
"""In the order they were added to the log; a new event type adds a case at the end."""


def stored_lines(cases: list[Callable[[VerifyApp], None]]) -> Iterator[bytes]:
    """Run the cases on an empty store; each stored event as one line of the log."""
    with tempfile.TemporaryDirectory() as folder:
        app = VerifyApp(env=parse_store(str(Path(folder) / "log.sqlite")).env())
        for case in cases:
            case(app)
        start = 1
        while page := app.recorder.select_notifications(start=start, limit=1000):
            for event in page:
                yield orjson.dumps({
                    "originator_id": str(event.originator_id),
                    "originator_version": event.originator_version,
                    "topic": event.topic, "state": bytes(event.state).decode("utf-8"),
                }) + b"\n"
            start = page[-1].id + 1
        app.close()


def main() -> None:
    if "--missing" in sys.argv:
        known = {orjson.loads(line)["originator_id"] for line in LOG.read_bytes().splitlines()}
        new = [line for line in stored_lines(CASES)
               if orjson.loads(line)["originator_id"] not in known]
        with LOG.open("ab") as out:
            out.writelines(new)
        print(f"appended {len(new)} events to {LOG}")
        return
    if LOG.exists():
        raise SystemExit(f"{LOG} exists and is never rewritten; use --missing")
    LOG.write_bytes(b"".join(stored_lines(CASES)))
    print(f"wrote {LOG}")


if __name__ == "__main__":
    main()
