"""`verify audit ...` and `verify explain`: what an auditor and a reviewer ask."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from verify.application.views import json_bytes
from verify.entrypoints.cli.support import (
    CODE,
    EXIT_REFUSED,
    Session,
    destination,
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
@click.option("--token", "token_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="With --seal: the timestamp token `audit seal --tsa` kept "
              "for it; check that it attests the seal's head.")
@click.option("--tsa-cert", "trusted_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="With --token: the certificate (PEM) of the timestamping "
              "authority's CA, which you trust; obtained from the authority, never from the "
              "token.")
@json_option
@pass_session
def audit_verify(session: Session, seal_text: str | None, token_file: Path | None,
                 trusted_file: Path | None, as_json: bool) -> None:
    """Recompute the hash chain over every stored event, and check every snapshot.

    Exits 0 and prints the head hash when the history is intact; exits 1
    naming the first event that was altered, removed, inserted or moved in the
    database behind the program's back. With --seal and --token, also checks
    the seal's RFC 3161 timestamp and prints the time the authority attests.
    """
    from verify.application.auditing import Auditor
    from verify.domain.chain import Seal

    if (token_file is None) != (trusted_file is None):
        raise click.UsageError("--token and --tsa-cert go together: the token, and the "
                               "certificates you trust to have signed it")
    if token_file is not None and not seal_text:
        raise click.UsageError("--token goes with --seal: a token attests a seal's head")
    seal = Seal.parse(seal_text) if seal_text else None
    timestamp = _token_check(token_file, trusted_file)
    auditor = Auditor(session.app(), session.store.label)
    with click.progressbar(length=session.app().recorder.max_notification_id() or 0,
                           label="verifying", file=sys.stderr, hidden=True) as bar:
        report = auditor.verify(seal, progress=bar.update, timestamp=timestamp)
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
        if report["timestamp"]:
            _print_attested(report["timestamp"], "the head existed by")
    if not report["intact"]:
        say(f"error: {report['problem']}", err=True)
        sys.exit(EXIT_REFUSED)


def _token_check(token_file: Path | None, trusted_file: Path | None) -> Any:
    """The kept token and the trusted certificates, read (None without a token)."""
    if token_file is None or trusted_file is None:
        return None
    from verify.adapters.files import read_small
    from verify.adapters.timestamps import MAX_CERTIFICATE_BYTES, MAX_TOKEN_BYTES, TokenCheck

    token = read_small(token_file, "the token file", MAX_TOKEN_BYTES)
    trusted = read_small(trusted_file, "the certificate file", MAX_CERTIFICATE_BYTES)
    return TokenCheck(token, trusted, trusted_file.name)


def _print_attested(attested: dict[str, Any], what: str) -> None:
    by = attested["authority"] or "the authority"
    say(f"timestamp: {what} {attested['time']}, as {by} attests (token serial "
        f"{attested['serial']})")


@audit.command("seal")
@click.option("--tsa", "tsa_url", metavar="URL",
              help="Also obtain an RFC 3161 timestamp token for the head from the "
              "timestamping authority at this http(s) address.")
@click.option("--token", "token_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="With --tsa: keep the token in this file (replaced only "
              "when the authority granted a token for this head).")
@json_option
@pass_session
def audit_seal(session: Session, tsa_url: str | None, token_file: Path | None,
               as_json: bool) -> None:
    """Print the head hash and Merkle root of the verified history, to publish.

    One line, with the number of events and a timestamp: publish it where the
    team cannot change it. `audit verify --seal` checks the history against it
    later; `audit check-proof` checks a proof against its Merkle root. With
    --tsa and --token, a timestamping authority attests the head existed by
    the time it signs, on a clock the team does not control.
    """
    from verify.application.auditing import Auditor

    if (tsa_url is None) != (token_file is None):
        raise click.UsageError("--tsa and --token go together: the authority to ask, and the "
                               "file to keep its token in")
    authority = None
    if tsa_url is not None:
        from verify.adapters.timestamps import TimestampAuthority

        authority = TimestampAuthority(tsa_url)
    auditor = Auditor(session.app(), session.store.label)
    sealed = auditor.seal()
    if authority is not None and token_file is not None:
        stamped = auditor.timestamp(sealed, authority)
        try:
            with destination(token_file) as out:
                out.write(stamped.token)
        except click.BadParameter as error:
            error.param_hint = "--token"
            raise
        sealed["timestamp"] = {**stamped.attestation.document(), "token": str(token_file)}
    if as_json:
        emit_json(sealed)
        return
    say(sealed["line"])
    if "timestamp" in sealed:
        _print_attested(sealed["timestamp"], "the head existed by")
        say(f"token: {sealed['timestamp']['token']}")


@audit.command("prove")
@click.argument("code", type=CODE, required=False)
@click.option("--seal", "seal_text", metavar="SEAL",
              help="A line printed earlier by `verify audit seal`: prove against the log as it "
              "was sealed, so the proof checks against the root published then.")
@click.option("--release", "release_name", metavar="NAME",
              help="Instead of --seal: prove against the log as release NAME sealed it "
              "(`verify release list`), so the proof checks against the root it published.")
@click.option("--consistency", "old_text", metavar="OLD_ROOT",
              help="Instead of an incident: prove that today's log extends the one sealed "
              "with this root (the whole seal line, or the root with --events).")
@click.option("--events", "old_events", type=click.IntRange(min=0), metavar="N",
              help="With a root alone for --consistency: the number of events it was sealed "
              "at (the seal's events=).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proof to this file (replaced only when complete); default: "
              "print it.")
@pass_session
def audit_prove(session: Session, code: str | None, seal_text: str | None,
                release_name: str | None, old_text: str | None, old_events: int | None,
                output: Path | None) -> None:
    """Write a proof a reader checks with only the published Merkle root.

    With CODE, an inclusion proof of each of the incident's events: where it
    stands in the log and the hashes that lead from it to the root. With
    --consistency, a proof that today's log extends the one sealed earlier,
    unchanged. Check either with `verify audit check-proof`, or with the short
    program in docs/audit.md that needs only Python.
    """
    from verify.application.proofs import Prover
    from verify.domain.proofs import PublishedRoot

    if (code is None) == (old_text is None):
        raise click.UsageError("give the CODE of an incident to prove, or --consistency "
                               "OLD_ROOT, one of the two")
    if old_events is not None and old_text is None:
        raise click.UsageError("--events goes with a root alone given to --consistency")
    if seal_text is not None and code is None:
        raise click.UsageError("--seal goes with an incident's CODE; --consistency takes the "
                               "seal line itself")
    if release_name is not None and (seal_text is not None or code is None):
        raise click.UsageError("--release goes with an incident's CODE, instead of --seal")
    prover = Prover(session.app())
    if code is not None:
        sealed = PublishedRoot.parse(seal_text) if seal_text is not None else None
        if release_name is not None:
            from verify.application.releases import Releases

            release = Releases(session.app(), session.store.label).named(release_name)
            sealed = PublishedRoot(PublishedRoot.parse(release["merkle_root"]).root,
                                   release["events"])
        if sealed is not None and sealed.events is None:
            raise click.UsageError("--seal takes the whole line `verify audit seal` printed")
        proof = prover.incident(code, sealed)
        what = (f"inclusion of the {len(proof['events'])} events of {proof['code']} in the log "
                f"of {proof['tree_size']} events")
    else:
        assert old_text is not None
        old = PublishedRoot.parse(old_text)
        if old_events is not None:
            if old.events is not None:
                raise click.UsageError("--events goes with a root alone; the seal line names "
                                       "its own events=")
            old = PublishedRoot(old.root, old_events)
        proof = prover.consistency(old)
        what = (f"the log of {proof['tree_size']} events extends the one of "
                f"{proof['old_size']} sealed")
    if output is None:
        emit_json(proof)
        return
    with destination(output) as out:
        out.write(json_bytes(proof))
    say(f"wrote {output}: {what}")
    say(f"root: {proof['root']}")


@audit.command("check-proof")
@click.argument("proof_file", metavar="PROOF", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--root", "root_text", required=True, metavar="ROOT",
              help="The published Merkle root: the whole seal line (the log's size is then "
              "checked too), or the root alone.")
@click.option("--old-root", "old_text", metavar="ROOT",
              help="For a consistency proof: the root published earlier that it must start "
              "from (the seal line, or the root alone).")
@json_option
def audit_check_proof(proof_file: Path, root_text: str, old_text: str | None,
                      as_json: bool) -> None:
    """Check a proof against a published Merkle root; needs no store.

    Exits 0 when it holds; exits 1, saying why, when it does not: a byte of
    the proof changed, or the root is not the one the log had.
    """
    from verify.adapters.files import read_small
    from verify.application.proofs import MAX_PROOF_BYTES, check_proof
    from verify.domain.proofs import PublishedRoot

    root = PublishedRoot.parse(root_text)
    old = PublishedRoot.parse(old_text) if old_text is not None else None
    content = read_small(proof_file, "the proof file", MAX_PROOF_BYTES)
    report = check_proof(content, root, old)
    if as_json:
        emit_json(report)
    elif report["holds"]:
        _print_holds(report)
    if not report["holds"]:
        say(f"error: {report['problem']}", err=True)
        sys.exit(EXIT_REFUSED)


def _print_holds(report: dict[str, Any]) -> None:
    size, root = report["tree_size"], report["root"]
    if report["proof"] == "inclusion":
        count = report["events"]
        say(f"holds: the {count} events of {report['code']} (versions 1 to {count}) are in "
            f"the log of {size} events whose root is {root}")
    else:
        say(f"holds: the log of {size} events whose root is {root} extends the log of "
            f"{report['old_size']} events whose root is {report['old_root']}")
        if not report["old_root_checked"]:
            say("note: compare that earlier root with the one published then, or give it "
                "with --old-root")
    if not report["size_checked"]:
        say(f"note: the log's size ({size} events) was not checked: compare it with the "
            "seal's events=, or give the whole seal line with --root")


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
