"""`verify demo`: a guided tour of the workflow on realistic cases."""

from __future__ import annotations

from pathlib import Path

import click

from verify.adapters.store import DEFAULT_STORE
from verify.domain.errors import InvalidInput
from verify.domain.sentences import counted_sentence
from verify.entrypoints.cli.support import Session, pass_session, say


@click.command()
@pass_session
def demo(session: Session) -> None:
    """Step a handful of 2017 cases through the whole workflow, printing each step.

    Writes to the store (verify.sqlite unless --store says otherwise). If the
    store already holds the demo's incidents, it shows them and changes nothing;
    a store holding other incidents is refused: the demo needs one of its own.
    """
    from verify.demo.tour import DEMO_CODES, run_demo

    app = session.app(create=True)
    already = [code for code in DEMO_CODES if app.has_incident(code)]
    stored = app.count_incidents()
    if stored and not stored == len(already) == len(DEMO_CODES):
        # Someone's own incidents (or a tour cut short): the tour would list them as its
        # own, then fail on the first code the store lacks. Nothing of it is mixed in.
        raise InvalidInput(counted_sentence(
            "%(store)s already holds %(count)s incident: the demo needs a store of its own "
            "(or one holding only its finished tour), such as --store %(fresh)s",
            "%(store)s already holds %(count)s incidents: the demo needs a store of its own "
            "(or one holding only its finished tour), such as --store %(fresh)s",
            count=stored, store=session.store.label, fresh=_fresh_store()))
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


def _fresh_store() -> str:
    """A store file in this folder that does not exist yet: demo.sqlite, else demo-2.sqlite…"""
    name, number = "demo.sqlite", 1
    while Path(name).exists():
        number += 1
        name = f"demo-{number}.sqlite"
    return name


COMMANDS = (demo,)
