"""Commands that decide: grade, dispute and resolve."""

from __future__ import annotations

import sys

import click

from verify.application.messages import counted
from verify.domain.values import DisputeOutcome, Grade
from verify.entrypoints.cli import render
from verify.entrypoints.cli.incidents import choice
from verify.entrypoints.cli.support import CODE, Session, emit_json, json_option, pass_session, say


@click.command()
@click.argument("code", type=CODE, required=False)
@click.option("--grade", "override", type=choice(Grade),
              help="Override the rulebook with this grade (needs --rationale).")
@click.option("--rationale", help="Why the override; required with --grade.")
@click.option("--suggest", is_flag=True,
              help="Print what the rulebook would grade, and why; record nothing.")
@click.option("--all", "grade_all", is_flag=True,
              help="Grade every ungraded incident by the rulebook.")
@click.option("--due", is_flag=True,
              help="With --all: re-grade instead the graded incidents whose evidence changed "
              "so that the rulebook now grades them otherwise.")
@json_option
@pass_session
def grade(
    session: Session,
    code: str | None,
    override: str | None,
    rationale: str | None,
    suggest: bool,
    grade_all: bool,
    due: bool,
    as_json: bool,
) -> None:
    """Grade incident CODE by the rulebook, or override it with --grade and --rationale.

    \b
    verify grade CS1234                      grade by the rulebook in force
    verify grade CS1234 --suggest [--json]   show what it would grade, and why
    verify grade CS1234 --grade weak --rationale "..."   a reviewer's override
    verify grade --all                       grade every ungraded incident
    verify grade --all --due                 re-grade those waiting for re-grading
    """
    if due and not grade_all:
        raise click.UsageError("--due goes with --all (to re-grade one incident, give its CODE)")
    if grade_all:
        if code or override or suggest:
            raise click.UsageError(
                "--all grades every incident; give no CODE, --grade or --suggest"
            )
        _grade_all(session, as_json, due)
        return
    if code is None:
        raise click.UsageError("give an incident CODE, or --all")
    if suggest:
        if override:
            raise click.UsageError("--suggest records nothing; drop --grade")
        suggestion = session.app().suggest_grade(code)
        if as_json:
            emit_json(suggestion)
        else:
            say(render.suggestion(suggestion))
        return
    if rationale is not None and override is None:
        raise click.UsageError("--rationale goes with --grade (an override)")
    if override is not None:
        if not rationale or not rationale.strip():
            raise click.UsageError("an override needs --rationale saying why")
        decision = session.app().override_grade(
            code, Grade(override), rationale, session.actor
        )
        message = f"{code} graded {decision.grade.value} (override)"
    else:
        decision = session.app().grade(code, session.actor)
        message = f"{code} graded {decision.grade.value} by rule {decision.rule}"
    proposed = session.app().awaits_approval(decision)
    if proposed:
        message = (f"{code}: grade {decision.grade.value} proposed; it takes effect when "
                   f"a second person approves it (`verify approve {code}`)")
    if as_json:
        emit_json({"code": code, "proposed": proposed, **decision.model_dump(mode="json")})
    else:
        say(message)


def _grade_all(session: Session, as_json: bool, due: bool) -> None:
    app = session.app()
    total = app.count_incidents()
    with click.progressbar(
        length=total, label="grading", file=sys.stderr,
        show_pos=True,
    ) as bar:
        summary = app.grade_all(session.actor, progress=bar.update, due=due)
    if as_json:
        emit_json(summary)
        return
    counts = _codes_by_grade(summary.incidents_by_grade)
    verb = "re-graded" if due else "graded"
    say(f"{verb} {counted(summary.graded, 'incident')}" + (f": {counts}" if counts else ""))
    if summary.proposed:
        proposed = _codes_by_grade(summary.proposed_incidents)
        say(f"proposed {counted(sum(summary.proposed.values()), 'grade')} for a second person "
            f"to approve: {proposed}")
    if summary.not_gradable:
        say(f"{len(summary.not_gradable)} cannot be graded (no source): "
            + ", ".join(summary.not_gradable))
    if summary.conflicts:
        say(f"{len(summary.conflicts)} changed meanwhile and were left for a re-run: "
            + ", ".join(summary.conflicts))
    if summary.regrade_due:
        say(f"{counted(len(summary.regrade_due), 'graded incident')} "
            f"{'waits' if len(summary.regrade_due) == 1 else 'wait'} for re-grading "
            f"(the evidence changed): {', '.join(summary.regrade_due)}; "
            "`verify grade --all --due` re-grades them")


CODES_SHOWN = 10
"""How many codes of one grade `grade --all` names before it counts the rest (`--json`
lists them all)."""


def _codes_by_grade(codes: dict[str, list[str]]) -> str:
    """'weak 2 (CS1, CS2), contested 1 (CS3)': each grade, how many, and which (the first
    CODES_SHOWN of them, and how many more)."""
    said = []
    for grade, found in codes.items():
        shown = ", ".join(found[:CODES_SHOWN])
        more = f" and {len(found) - CODES_SHOWN} more" if len(found) > CODES_SHOWN else ""
        said.append(f"{grade} {len(found)} ({shown}{more})")
    return ", ".join(said)


@click.command()
@click.argument("code", type=CODE)
@click.option("--by", "by", required=True, help="Who disputes the grade.")
@click.option("--reason", required=True, help="On what grounds.")
@pass_session
def dispute(session: Session, code: str, by: str, reason: str) -> None:
    """Open a dispute against incident CODE's current grade."""
    session.app().dispute(code, by, reason, session.actor)
    say(f"opened a dispute on {code}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--upheld", is_flag=True,
              help="The dispute is right: the grade is withdrawn; re-grade the incident.")
@click.option("--dismissed", is_flag=True, help="The grade stands.")
@click.option("--rationale", required=True, help="Why.")
@pass_session
def resolve(session: Session, code: str, upheld: bool, dismissed: bool, rationale: str) -> None:
    """Resolve the open dispute on incident CODE: exactly one of --upheld or --dismissed."""
    if upheld == dismissed:  # both, or neither: the outcome would be a guess
        raise click.UsageError("say --upheld or --dismissed, one of them")
    outcome = DisputeOutcome.UPHELD if upheld else DisputeOutcome.DISMISSED
    session.app().resolve(code, outcome, rationale, session.actor)
    if outcome is DisputeOutcome.UPHELD:
        say(f"dispute on {code} upheld: its grade is withdrawn; grade it again")
    else:
        say(f"dispute on {code} dismissed: the grade stands")


@click.command()
@click.argument("code", type=CODE)
@json_option
@pass_session
def approve(session: Session, code: str, as_json: bool) -> None:
    """Approve the grade proposed for incident CODE, so it takes effect.

    Under separation of duties (a team file), a grade of fair, confirmed or
    discounted is only proposed by whoever grades; a different person
    approves it. Nobody approves their own proposal, and a rulebook grade is
    approved only while the rulebook still grades the record the same way.
    """
    decision = session.app().approve(code, session.actor)
    if as_json:
        emit_json({"code": code, **decision.model_dump(mode="json")})
    else:
        say(f"{code} graded {decision.grade.value}: approved by {session.actor}")


COMMANDS = (grade, approve, dispute, resolve)
