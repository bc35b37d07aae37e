"""A team's rules, kept in the domain: who may do what, and how a team may change."""

from __future__ import annotations

import pytest

from verify.domain import InvalidInput, Refused
from verify.domain.duties import Action, Member, Role, Team


def team() -> Team:
    return Team(members={"amira": Member(name="amira", role=Role.ANALYST),
                         "lina": Member(name="lina", role=Role.AUDITOR)})


def test_a_member_is_added_or_changes_role() -> None:
    grown = team().with_member(Member(name="badr", role=Role.REVIEWER))
    assert sorted(grown.members) == ["amira", "badr", "lina"]
    changed = grown.with_member(Member(name="lina", role=Role.REPORTER))
    assert changed.members["lina"].role is Role.REPORTER


def test_a_team_keeps_at_least_one_member_and_refuses_strangers() -> None:
    smaller = team().without_member("lina")
    with pytest.raises(InvalidInput, match="last member"):
        smaller.without_member("amira")
    with pytest.raises(InvalidInput, match="zoe is not a member"):
        team().without_member("zoe")


def test_roles_decide_what_a_member_may_change() -> None:
    team().authorize("amira", Action.GRADE)
    with pytest.raises(Refused, match="lina is an auditor and may not grade"):
        team().authorize("lina", Action.GRADE)
    assert not team().with_duties(False).separation_of_duties
