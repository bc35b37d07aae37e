"""Sentences keep their English for the command line and their template for the web."""

from __future__ import annotations

import copy
import pickle
from typing import ClassVar

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from verify.domain.errors import Refused
from verify.domain.sentences import (
    Catalog,
    Listed,
    Sentence,
    Text,
    reread,
    said,
    sentence,
    sentence_of,
)
from verify.domain.values import Grade, State


class Pirate(Catalog):
    """A catalog that translates a few messages and words, and marks values it sets."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "graded %(grade)s by %(how)s": "by %(how)s, %(grade)s it be",
        "rule %(rule)s": "the %(rule)s code",
        "%(items)s; %(item)s": "%(items)s, arr, %(item)s",
        "broken %(code)s": "broken %(missing)s",
    }

    def gettext(self, message: str) -> str:
        return self.MESSAGES.get(message, message)

    def word(self, value: object) -> str:
        return {Grade.FAIR: "fairish", State.GRADED: "graded-ish"}.get(value, "?")  # type: ignore[call-overload]

    def value(self, value: object) -> str:
        return f"<{value}>"


def test_a_sentence_reads_as_its_english_and_is_translated_with_its_values() -> None:
    made = sentence("graded %(grade)s by %(how)s", grade=Grade.FAIR,
                    how=sentence("rule %(rule)s", rule="FAIR"))
    assert made == "graded fair by rule FAIR"
    assert isinstance(made, str)
    assert said(made, Pirate()) == "by the <FAIR> code, fairish it be"
    assert said(made, Catalog()) == "graded fair by rule FAIR"


def test_a_translation_that_does_not_fit_its_values_gives_the_english() -> None:
    assert said(sentence("broken %(code)s", code="CS1"), Pirate()) == "broken CS1"


def test_a_list_is_separated_as_the_language_separates_it() -> None:
    listed = Listed([sentence("rule %(rule)s", rule="A"), "plain"], "; ")
    assert listed == "rule A; plain"
    assert said(listed, Pirate()) == "the <A> code, arr, <plain>"
    assert said(Listed([]), Pirate()) == ""
    assert Listed(["a", "b"], ", ") == "a, b"


def test_a_sentence_survives_copies_documents_and_errors() -> None:
    made = sentence("rule %(rule)s", rule="A")
    listed = Listed([made, "b"])
    for kept in (copy.deepcopy(made), pickle.loads(pickle.dumps(made))):
        assert isinstance(kept, Sentence) and kept.template == "rule %(rule)s"
    assert pickle.loads(pickle.dumps(listed)).parts == ("rule A", "b")

    class Document(BaseModel):
        what: Text
        why: Text | None = None

    document = Document(what=made, why="typed by a person")
    assert isinstance(document.what, Sentence)
    assert document.model_dump(mode="json") == {"what": "rule A", "why": "typed by a person"}
    assert isinstance(sentence_of(Refused(made)), Sentence)
    assert sentence_of(Refused(made)) == str(Refused(made))
    assert sentence_of(ValueError("a", "b")) == "('a', 'b')"


def test_plain_text_and_values_outside_a_sentence_are_left_alone() -> None:
    assert said("typed by a person", Pirate()) == "typed by a person"
    assert said(Grade.FAIR, Pirate()) == "fairish"


@given(st.dictionaries(st.sampled_from(["code", "name", "reason"]), st.text(max_size=30),
                       min_size=3))
def test_the_english_is_the_template_filled_in(values: dict[str, str]) -> None:
    template = "incident %(code)s: %(name)s said %(reason)s (100%%)"
    made = sentence(template, **values)
    assert made == template % values
    assert said(made, Catalog()) == made


def test_a_sentence_kept_as_plain_text_is_read_back() -> None:
    templates = ["needs a source", "grade %(grade)s proposed by %(who)s (100%%)"]
    made = sentence(templates[1], grade=Grade.FAIR, who="amira")
    back = reread(str(made), templates, {"grade": Grade})
    assert isinstance(back, Sentence) and back == made
    assert said(back, Pirate()) == said(made, Pirate())
    assert isinstance(reread("needs a source", templates), Sentence)
    assert reread("something else", templates) == "something else"
    assert not isinstance(reread("something else", templates), Sentence)
    assert reread("grade nothing proposed by x (100%)", templates, {"grade": Grade}) \
        == "grade nothing proposed by x (100%)"


def test_a_recorded_reason_of_the_rulebook_is_read_back_as_its_sentence() -> None:
    from verify.domain.rulebook import REASONS, reason_sentence
    from verify.domain.values import StrikeStatus

    fair = sentence(REASONS["sources and strike"], count=2, sources="s1 (A, B2), s2 (B, C3)",
                    status=StrikeStatus.DECLARED, belligerent="US-led Coalition")
    back = reason_sentence(str(fair))
    assert isinstance(back, Sentence) and back.values["status"] is StrikeStatus.DECLARED
    contested = Listed([sentence(REASONS["alleged"], count=2, names="A, B"),
                        sentence(REASONS["claimed"], claims="C (early reports; later denied)")])
    assert isinstance(reason_sentence(str(contested)), Sentence)
    assert isinstance(reason_sentence("imported grade"), Sentence)  # an archive's grade
    assert reason_sentence("typed by a person; with a semicolon") \
        == "typed by a person; with a semicolon"


def test_a_counted_sentence_takes_the_form_its_count_needs() -> None:
    from verify.domain.sentences import Counted, counted_sentence

    class Forms(Catalog):
        def ngettext(self, singular: str, plural: str, count: int) -> str:
            return {1: "one minute", 2: "two minutes"}.get(count, "%(count)s minutes, many")

    assert counted_sentence("a minute", "%(count)s minutes", count=1) == "a minute"
    five = counted_sentence("a minute", "%(count)s minutes in %(where)s", count=5, where="x")
    assert five == "5 minutes in x"
    assert said(counted_sentence("a minute", "%(count)s minutes", count=2), Forms()) \
        == "two minutes"
    assert said(counted_sentence("a minute", "%(count)s minutes", count=7), Forms()) \
        == "7 minutes, many"
    kept = pickle.loads(pickle.dumps(five))
    assert isinstance(kept, Counted) and kept == five and kept.number == 5
