"""The compact notation the feature tables use for evidence ("B2 (group a), C3 withdrawn")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from verify.domain import DiscountFinding, StrikeConfirmation

KINDS = ("media", "ngo", "social", "official", "witness", "belligerent")


@dataclass(frozen=True)
class SourceSpec:
    reliability: str
    credibility: int
    group: str | None
    withdrawn: bool
    kind: str = "media"


def sources(text: str) -> list[SourceSpec]:
    """Parse "B2 (group a), unrated, C3 withdrawn, A1 official"; "none" is no source."""
    if text.strip() == "none":
        return []
    specs = []
    for item in text.split(","):
        item = item.strip()
        group = re.search(r"\(group ([^)]+)\)", item)
        rating = item.split()[0]
        if rating == "unrated":
            reliability, credibility = "F", 6
        else:
            reliability, credibility = rating[0], int(rating[1])
        specs.append(
            SourceSpec(
                reliability=reliability,
                credibility=credibility,
                group=group.group(1) if group else None,
                withdrawn=item.endswith("withdrawn"),
                kind=next((kind for kind in KINDS if kind in item.split()), "media"),
            )
        )
    return specs


INVISIBLE = {"<ZWSP>": "\u200b", "<ZWJ>": "\u200d", "<RLM>": "\u200f"}
"""Invisible characters, written visibly in the tables."""


def typed(text: str) -> str:
    """A name as the table spells it, with <ZWSP> and the like made the invisible characters."""
    for mark, character in INVISIBLE.items():
        text = text.replace(mark, character)
    return text


def belligerents(text: str) -> list[str]:
    return [typed(name.strip()) for name in text.split(" and ")]


def strike(text: str) -> StrikeConfirmation | None:
    """Parse "declared by Coalition"; "none" is no strike."""
    if text.strip() == "none":
        return None
    status, _, belligerent = text.partition(" by ")
    return StrikeConfirmation(belligerent=typed(belligerent.strip()), status=status.strip())


def finding(text: str) -> DiscountFinding | None:
    """Parse "those killed were combatants" or "X was most likely responsible"."""
    text = text.strip()
    if text == "none":
        return None
    if text == "those killed were combatants":
        return DiscountFinding(basis="combatants", rationale="identified as fighters")
    party = text.removesuffix(" was most likely responsible")
    return DiscountFinding(basis="other_party", party=party, rationale="local sources say so")


def ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
