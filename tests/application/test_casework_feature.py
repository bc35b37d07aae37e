"""Steps of features/casework.feature: assignment, comments, tags and the inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_bdd import parsers, scenarios, then, when

from conftest import TEAMS, World, act, done

scenarios("casework.feature")



@pytest.fixture(autouse=True)
def on_each_store(world: World) -> Iterator[World]:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    yield world
    TEAMS.pop(id(world), None)


@when(parsers.parse("{member} assigns it to {person}"))
def assigns(world: World, member: str, person: str) -> None:
    done(world, lambda: world.app.assign(world.code, person, member))


@when(parsers.parse("{member} takes it back"))
def takes_back(world: World, member: str) -> None:
    done(world, lambda: world.app.assign(world.code, None, member))


@when(parsers.parse('{member} comments "{text}"'))
def comments(world: World, member: str, text: str) -> None:
    done(world, lambda: world.app.comment(world.code, text, member))


@when(parsers.parse('{member} answers {comment} with "{text}"'))
def answers(world: World, member: str, comment: str, text: str) -> None:
    done(world, lambda: world.app.comment(world.code, text, member, reply_to=comment))


@when(parsers.parse('{member} tags it "{tag}"'))
def tags(world: World, member: str, tag: str) -> None:
    done(world, lambda: world.app.tag_incident(world.code, [tag], member))


@when(parsers.parse('{member} tries to tag it "{tag}"'))
def tries_to_tag(world: World, member: str, tag: str) -> None:
    act(world, lambda: world.app.tag_incident(world.code, [tag], member))


CHANGES = {
    "comment": lambda w, m: w.app.comment(w.code, "a thought", m),
    "assign it": lambda w, m: w.app.assign(w.code, "jonas", m),
    "assign it to zoe": lambda w, m: w.app.assign(w.code, "zoe", m),
    "assign it to jonas": lambda w, m: w.app.assign(w.code, "jonas", m),
    "mention @jonsa": lambda w, m: w.app.comment(w.code, "@jonsa look", m),
}


@when(parsers.re(r"(?P<member>\w+) tries to (?P<change>(?!tag it ).+)"))
def tries(world: World, member: str, change: str) -> None:
    act(world, lambda: CHANGES[change](world, member))


@then("it is recorded")
def recorded(world: World) -> None:
    assert world.error is None, str(world.error)
    assert world.version_before is not None and world.version() == world.version_before + 1


def _inbox_line(item: dict[str, object]) -> str:
    if item["kind"] == "assigned":
        return f"assigned by {item['by']}"
    answered = " (answered)" if item["answered"] else ""
    return f"mentioned in {item['comment']} by {item['by']}{answered}"


@then(parsers.parse("{member}'s inbox holds \"{items}\""))
def inbox_holds(world: World, member: str, items: str) -> None:
    assert [_inbox_line(item) for item in world.app.inbox(member)] == items.split(", ")


@then(parsers.parse("{member}'s inbox is empty"))
def inbox_empty(world: World, member: str) -> None:
    assert world.app.inbox(member) == []


@then(parsers.parse("the queue of {member} lists it with the tag {tag}"))
def queue_of(world: World, member: str, tag: str) -> None:
    world.app.catch_up()
    (entry,) = world.app.queue(assignee=member)
    assert entry.code == world.code and tag in entry.tags
    assert [found.code for found in world.app.queue(tag=tag.upper())] == [world.code]


@then(parsers.parse('the public history reads "{what}"'))
def public_reads(world: World, what: str) -> None:
    assert what in [entry.what for entry in world.app.history(world.code, public=True)]


@then(parsers.parse('the public history does not say "{text}"'))
def public_withholds(world: World, text: str) -> None:
    shown = world.app.history(world.code, public=True)
    assert all(text not in entry.model_dump_json() for entry in shown)
