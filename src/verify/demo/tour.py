"""A guided tour: realistic 2017 cases stepped through the whole workflow.

The cases follow publicly reported incidents of March 2017 (Mosul al-Jadida,
the Mansoura school near Raqqa, the al-Jinah mosque in western Aleppo,
strikes in Tabqa). Codes, sources and ratings are illustrative, not a
monitor's actual records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from verify.adapters.gazetteer import load_gazetteer
from verify.application.app import VerifyApp
from verify.application.strike_reports import StrikeReports
from verify.domain.strikes import StrikeReportRecord
from verify.domain.values import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    DiscountFinding,
    DisputeOutcome,
    Location,
    Source,
    StrikeConfirmation,
)

DEMO_CODES = ("CI1050", "CS1080", "CS1070", "CS1090", "CS1091", "CS1092", "CS1093", "CS1094",
              "CI1061", "CS1095")

Narrate = Callable[[str], None]


class Tour:
    """Runs the demo's commands against an application, narrating each step."""

    def __init__(self, app: VerifyApp, narrate: Narrate) -> None:
        self.app = app
        self.say = narrate

    def report(self, code: str, day: str, place: Location, country: str,
               belligerents: list[str], killed: str, summary: str, actor: str) -> None:
        self.app.report_incident(
            code=code, date=dt.date.fromisoformat(day), country=country, location=place,
            belligerents=belligerents, killed=CasualtyRange.parse(killed),
            injured=CasualtyRange(), summary=summary, actor=actor,
        )
        self.say(f"\n{code}  reported by {actor}: {place.name}, {day}; "
                 f"{killed} civilians reported killed")

    def source(self, code: str, actor: str, **fields: object) -> None:
        source = Source.model_validate(fields)
        source_id, corroborated = self.app.add_source(code, source, actor)
        self.say(f"{code}  {actor} attached {source_id}: {source.publisher_name} "
                 f"({source.kind_name}, {source.rating})"
                 + (f", group {source.group}" if source.group else ""))
        if corroborated:
            self.say(f"{code}  -> corroborated: two independent credible sources")

    def strike(self, code: str, actor: str, belligerent: str, status: str, report: str) -> None:
        self.app.confirm_strike(
            code, StrikeConfirmation(belligerent=belligerent, status=status, report=report), actor
        )
        self.say(f"{code}  {actor} recorded a {status} strike by {belligerent} ({report})")

    def grade(self, code: str, actor: str) -> None:
        decision = self.app.grade(code, actor)
        self.say(f"{code}  {actor} graded it {decision.grade.value.upper()} by rule "
                 f"{decision.rule}: {decision.reasons[0]}")

    def state(self, code: str) -> None:
        view = self.app.show(code)
        self.say(f"{code}  now {view.state}" + (f", grade {view.grade}" if view.grade else ""))


def run_demo(app: VerifyApp, narrate: Narrate) -> None:
    """Step the demo's incidents through every state and every grade."""
    tour = Tour(app, narrate)
    coalition = "US-led Coalition"

    # Mosul al-Jadida: fair on two independent sources and a declared strike, then
    # confirmed when the coalition concedes.
    tour.report(
        "CI1050", "2017-03-17",
        Location(name="Mosul al-Jadida, Mosul", lat=36.34, lon=43.10, precision="neighbourhood"),
        "Iraq", [coalition], "105-200",
        "Strike on a residential building; more than 100 bodies recovered from one building.",
        "amira",
    )
    tour.source("CI1050", "amira", url="https://example.org/amnesty/mosul-al-jadida",
                publisher="Amnesty International", kind="ngo", reliability="B", credibility=2,
                published="2017-03-28")
    tour.source("CI1050", "amira", url="https://example.org/nineveh-media/2017-03-18",
                publisher="Nineveh local media", kind="media", reliability="C", credibility=3,
                group="nineveh-local")
    tour.source("CI1050", "amira", url="https://example.org/repost/nineveh-2017-03-18",
                publisher="Regional news repost", kind="media", reliability="C", credibility=3,
                group="nineveh-local")
    tour.strike("CI1050", "jonas", coalition, "declared", "CJTF-OIR strike release 2017-03-17")
    tour.grade("CI1050", "jonas")
    app.assess("CI1050", Assessment(
        belligerent=coalition, outcome="credible",
        reason="investigation found a coalition munition triggered explosives in the building",
        conceded_killed=CasualtyRange(min=105, max=105)), "jonas")
    narrate("CI1050  jonas recorded the coalition's assessment: credible, 105 deaths conceded")
    tour.grade("CI1050", "jonas")

    # Mansoura school: fair; the belligerent disputes; the dispute is dismissed.
    tour.report(
        "CS1080", "2017-03-20",
        Location(name="al-Badiya school, Mansoura", lat=35.85, lon=38.75, precision="village"),
        "Syria", [coalition], "30-33",
        "Strike on a school sheltering displaced families near Raqqa.",
        "amira",
    )
    tour.source("CS1080", "amira", url="https://example.org/hrw/mansoura-school",
                publisher="Human Rights Watch", kind="ngo", reliability="B", credibility=2)
    tour.source("CS1080", "amira", url="https://example.org/raqqa-local/mansoura",
                publisher="Raqqa local monitoring network", kind="social", reliability="C",
                credibility=2, protected=True)
    tour.strike("CS1080", "jonas", coalition, "likely", "CJTF-OIR strike release 2017-03-21")
    tour.grade("CS1080", "jonas")
    app.dispute("CS1080", coalition, "says the school was used by ISIS fighters", "jonas")
    narrate("CS1080  dispute opened by the coalition: school said to be used by fighters")
    app.resolve("CS1080", DisputeOutcome.DISMISSED,
                "survivors and two independent sources describe displaced families", "mei")
    narrate("CS1080  mei dismissed the dispute: the grade stands")

    # al-Jinah mosque: the strike is declared, but responsibility is contested.
    tour.report(
        "CS1070", "2017-03-16",
        Location(name="Omar ibn al-Khattab mosque, al-Jinah", lat=36.16, lon=36.87,
                 precision="village"),
        "Syria", [coalition], "38-49",
        "Strike on a mosque during evening prayers in western Aleppo; "
        "القصف استهدف مسجداً في قرية الجينة",
        "amira",
    )
    tour.source("CS1070", "amira", url="https://example.org/witness/al-jinah",
                publisher="Witness testimony via local council", kind="witness",
                reliability="C", credibility=3)
    tour.source("CS1070", "amira", url="https://example.org/hrw/al-jinah",
                publisher="Human Rights Watch", kind="ngo", reliability="B", credibility=2)
    tour.strike("CS1070", "jonas", coalition, "declared", "CENTCOM statement 2017-03-16")
    app.contest("CS1070", CompetingClaim(
        belligerent="Russian Military",
        reason="early local reports attributed the strike to Russian aircraft"), "jonas")
    narrate("CS1070  jonas recorded a competing claim against the Russian Military")
    app.assess("CS1070", Assessment(
        belligerent=coalition, outcome="non_credible",
        reason="says it targeted a meeting of al-Qaeda militants"), "jonas")
    narrate("CS1070  jonas recorded the coalition's assessment: non_credible")
    tour.grade("CS1070", "jonas")
    app.dispute("CS1070", "Forensic Architecture researcher",
                "the strike is acknowledged; the Russian claim should not count", "amira")
    narrate("CS1070  a dispute is open against the contested grade")

    # Tabqa: single-source strikes over three days from one local network.
    tabqa = Location(name="Tabqa", lat=35.84, lon=38.55, precision="town")
    network = dict(publisher="Tabqa local monitoring network", kind="social",
                   reliability="C", credibility=3, group="tabqa-network")
    tour.report("CS1090", "2017-03-21", Location(name="bakery, Tabqa", lat=35.84, lon=38.55,
                precision="street"), "Syria", [coalition], "7",
                "Strike near a bakery while people queued for bread.", "mei")
    tour.source("CS1090", "mei", url="https://example.org/tabqa-network/bakery", **network)
    tour.grade("CS1090", "mei")
    tour.report("CS1091", "2017-03-22", tabqa, "Syria", [coalition], "4-6",
                "Strike on a car wash.", "mei")
    tour.source("CS1091", "mei", url="https://example.org/tabqa-network/car-wash", **network)
    tour.strike("CS1091", "jonas", coalition, "likely", "CJTF-OIR strike release 2017-03-23")
    tour.state("CS1091")
    tour.report("CS1092", "2017-03-22", tabqa, "Syria", [coalition], "5",
                "Car wash strike, reported again from a second channel.", "amira")
    app.mark_duplicate("CS1092", "CS1091", "mei")
    narrate("CS1092  mei marked it a duplicate of CS1091: it leaves every queue and count")
    tour.report("CS1093", "2017-03-23", tabqa, "Syria", [coalition], "3",
                "Strike on a residential street.", "mei")
    tour.source("CS1093", "mei", url="https://example.org/tabqa-network/street", **network)
    tour.source("CS1093", "mei", url="https://example.org/airwars-local/tabqa-2017-03-23",
                publisher="Regional monitoring group", kind="ngo", reliability="B",
                credibility=3)
    tour.state("CS1093")
    tour.report("CS1094", "2017-03-23", tabqa, "Syria", [coalition], "1-2",
                "Unconfirmed report of a strike on the outskirts.", "mei")
    tour.state("CS1094")

    # West Mosul vehicle: weak at first; a dispute is upheld; discounted on re-grading.
    tour.report(
        "CI1061", "2017-03-19", Location(name="al-Thawra, West Mosul"), "Iraq", [coalition],
        "3", "Strike on a vehicle; reports of civilians inside.", "amira",
    )
    tour.source("CI1061", "amira", url="https://example.org/social/west-mosul-vehicle",
                publisher="Local social media page", kind="social", reliability="D",
                credibility=4)
    tour.grade("CI1061", "amira")
    app.dispute("CI1061", "Mosul researcher", "the dead were named as fighters by their families",
                "jonas")
    narrate("CI1061  dispute opened: the dead were said to be fighters")
    app.resolve("CI1061", DisputeOutcome.UPHELD,
                "family notices name all three as fighters", "mei")
    narrate("CI1061  mei upheld the dispute: the grade is withdrawn")
    app.discount("CI1061", DiscountFinding(
        basis="combatants", rationale="family notices name all three as fighters"), "mei")
    tour.grade("CI1061", "mei")

    # Hajin: the coalition's own daily release names the town a day later; the
    # gazetteer places it, and matching records the strike automatically.
    tour.report(
        "CS1095", "2017-03-26", Location(name="Hajin"), "Syria", [coalition], "2-4",
        "Strike on a house on the edge of Hajin; a local network names two children.", "amira",
    )
    tour.source("CS1095", "amira", url="https://example.org/deir-ez-zor-network/hajin",
                publisher="Deir ez-Zor local network", kind="social", reliability="C",
                credibility=3)
    reports = StrikeReports(app)
    release = StrikeReportRecord(
        reference="CJTF-OIR release 2017-03-27", belligerent=coalition,
        report_date=dt.date(2017, 3, 27), strike_date=dt.date(2017, 3, 26), place="هجين",
        strikes=1, text="Near Hajin, one strike destroyed an ISIS fighting position.",
    )
    list(reports.import_rows([(1, release, None)], "jonas"))
    narrate("CS1095  jonas imported the coalition's strike report: 'Near Hajin, one strike "
            "...' (place named in Arabic, no coordinates)")
    found, _ = reports.candidates(load_gazetteer(None), radius_km=15, days=1)
    for candidate in reports.apply(found, "jonas"):
        narrate(f"{candidate.incident}  matched {candidate.report}: {candidate.how_far()}, "
                f"{candidate.day_offset:+d} day(s), by {candidate.rule}")
