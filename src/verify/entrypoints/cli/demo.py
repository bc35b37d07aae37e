"""`verify demo`: a guided tour of the workflow on realistic cases."""

from __future__ import annotations

import click

from verify.adapters.store import DEFAULT_STORE
from verify.entrypoints.cli.support import Session, pass_session, say


@click.command()
@pass_session
def demo(session: Session) -> None:
    """Step a handful of 2017 cases through the whole workflow, printing each step.

    Writes to the store (verify.sqlite unless --store says otherwise). If the
    store already holds the demo's incidents, it shows them and changes nothing.
    """
    from verify.demo.tour import DEMO_CODES, run_demo

    app = session.app(create=True)
    already = [code for code in DEMO_CODES if app.has_incident(code)]
    if already:
        say(f"{session.store.label} already holds the demo's incidents; showing them "
            "(use --store NEW.sqlite to run the tour again)")
    else:
        say(f"verify demo: stepping {len(DEMO_CODES)} incidents through review "
            f"in {session.store.label}")
        run_demo(app, say)
    say("\nwhere each incident stands:")
    say(f"  {'code':<8} {'state':<20} {'grade':<11} place")
    for code in DEMO_CODES:
        view = app.show(code)
        state = f"duplicate of {view.duplicate_of}" if view.duplicate_of else view.state
        say(f"  {view.code:<8} {state:<20} {view.grade or '-':<11} {view.location['name']}")
    store = "" if session.store.label == DEFAULT_STORE else f"--store {session.store.label} "
    say(f"\nnext: verify {store}show CI1050, or verify {store}history CI1050")

