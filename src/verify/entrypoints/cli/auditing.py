"""`verify audit ...` and `verify explain`: what an auditor and a reviewer ask."""

from __future__ import annotations

import sys
from typing import Any

import click

from verify.entrypoints.cli.support import (
    CODE,
    EXIT_REFUSED,
    Session,
    emit_json,
    json_option,
    pass_session,
    say,
)


@click.group()
def audit() -> None:
    """Prove the stored history is intact, seal it, and test new rulebooks on it."""


@audit.command("verify")
@click.option("--seal", "seal_text", metavar="SEAL",
              help="A line printed earlier by `verify audit seal`: also prove the history "
              "up to it is unchanged.")
@json_option
@pass_session
def audit_verify(session: Session, seal_text: str | None, as_json: bool) -> None:
    """Recompute the hash chain over every stored event, and check every snapshot.

    Exits 0 and prints the head hash when the history is intact; exits 1
    naming the first event that was altered, removed, inserted or moved in the
    database behind the program's back.
    """
    from verify.application.auditing import Auditor
    from verify.domain.chain import Seal

    seal = Seal.parse(seal_text) if seal_text else None
    auditor = Auditor(session.app(), session.store.label)
    with click.progressbar(length=session.app().recorder.max_notification_id() or 0,
                           label="verifying", file=sys.stderr, hidden=True) as bar:
        report = auditor.verify(seal, progress=bar.update)
    if as_json:
        emit_json(report)
    elif report["intact"]:
        say(f"intact: {report['events']} events, {report['snapshots_checked']} snapshots")
        say(f"head: {report['head']}")
        if report["encrypted_checked"]:
            say(f"encrypted: each of {report['encrypted_checked']} events decrypts where it "
                "stands")
        if report["encrypted_unbound"]:
            say(f"note: {report['encrypted_unbound']} of them were encrypted before events were "
                "bound to their place; where those stand is proven by the hash chain only")
        if report["seal_checked"]:
            say(f"matches the seal at event {seal.events if seal else 0}")
    if not report["intact"]:
        say(f"error: {report['problem']}", err=True)
        sys.exit(EXIT_REFUSED)


@audit.command("seal")
@json_option
@pass_session
def audit_seal(session: Session, as_json: bool) -> None:
    """Print the head hash of the verified history, with a timestamp, to publish."""
    from verify.application.auditing import Auditor

    sealed = Auditor(session.app(), session.store.label).seal()
    if as_json:
        emit_json(sealed)
    else:
        say(sealed["line"])


@audit.command("regrade")
@click.option("--rulebook", "rulebook_name", required=True, metavar="VERSION",
              help="The rulebook to try, e.g. v2.")
@json_option
@pass_session
def audit_regrade(session: Session, rulebook_name: str, as_json: bool) -> None:
    """Show which grades another rulebook version would change, without recording anything."""
    from verify.application.auditing import Auditor, rulebook_named

    rulebook = rulebook_named(rulebook_name)
    app = session.app()
    with click.progressbar(length=app.count_incidents(), label="re-grading",
                           file=sys.stderr, hidden=True) as bar:
        report = Auditor(app, session.store.label).regrade(rulebook, progress=bar.update)
    if as_json:
        emit_json(report)
        return
    _print_regrade(report)


def _print_regrade(report: dict[str, Any]) -> None:
    say(f"rulebook {report['rulebook']}: {report['summary']}")
    say(f"{report['compared']} graded incidents compared: {report['changed']} would change, "
        f"{report['unchanged']} would not")
    for transition, count in report["by_change"].items():
        say(f"  {transition}: {count}")
    for change in report["changes"]:
        to = change["to"] or "ungradable"
        rule = f" by rule {change['rule']}" if change["rule"] else ""
        say(f"{change['code']:<10} {change['from']} -> {to}{rule}"
            f"  (was {change['was_graded_by']}); {'; '.join(change['reasons'])}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--rulebook", "rulebook_name", metavar="VERSION",
              help="Explain under another rulebook version (default: the one in force).")
@json_option
@pass_session
def explain(session: Session, code: str, rulebook_name: str | None, as_json: bool) -> None:
    """Show how the rulebook grades incident CODE: each rule, each source, each strike."""
    from verify.application.auditing import rulebook_named

    rulebook = rulebook_named(rulebook_name) if rulebook_name else None
    document = session.app().explain(code, rulebook)
    if as_json:
        emit_json(document)
        return
    decision = document["decision"]
    say(f"{code}: rulebook {decision['rulebook']} grades it {decision['grade']} "
        f"by rule {decision['rule']}")
    recorded = document["recorded"]
    if recorded:
        say(f"  recorded grade: {recorded['grade']} (rule {recorded['rule']}, "
            f"rulebook {recorded['rulebook']}, by {recorded['by']})")
    else:
        say("  recorded grade: none yet")
    say("  rules, in order of precedence:")
    for check in decision["checks"]:
        mark = "met    " if check["met"] else "not met"
        say(f"    {check['rule']:<10} {mark}  {check['because']}")
    say("  sources:")
    for source in document["sources"]:
        say(f"    {source['id']:<4} {source['rating']}  {source['kind']:<11} "
            f"{source['credible_because']}; {source['counted_because']}")
    if document["strikes"]:
        say("  strikes:")
        for strike in document["strikes"]:
            report = f" ({strike['report']})" if strike["report"] else ""
            say(f"    {strike['status']} by {strike['belligerent']}{report}: {strike['because']}")
    for claim in document["claims"]:
        say(f"  competing claim: {claim['belligerent']}: {claim['reason']}")
    for assessment in document["assessments"]:
        say(f"  assessment: {assessment['belligerent']} {assessment['outcome']}")
    for finding in document["discounts"]:
        say(f"  finding: {finding['basis']}: {finding['rationale']}")


COMMANDS = (audit, explain)
