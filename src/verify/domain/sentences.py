"""Sentences that remember how they were made, so an interface can say them in its language.

The engine words what it tells people (a refusal, a line of history, a rule's
reason) in English, and the command line prints that English. A sentence made
with `sentence` is that English text, a `str` like any other, and it also keeps its
template and values: the web interface looks the template up in its message
catalog and fills in the values, themselves translated when they are sentences
or words of the record (a grade, a state). The template is written the way
gettext writes one, ``"graded %(grade)s by rule %(rule)s"``, and found in the
code by the catalog's extraction through the name `sentence`.

Everything stays pure: no catalog and no language is known here.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from pydantic import WrapValidator


def sentence_template(template: str) -> str:
    """A template kept to be said later with `sentence` (so the catalog's extraction finds it
    where it is written)."""
    return template


class Sentence(str):
    """English text, with the template and values it was made from."""

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, values: Mapping[str, object]) -> Sentence:
        made = super().__new__(cls, template % {name: _english(value)
                                                for name, value in values.items()})
        made.template = template
        made.values = dict(values)
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.template, self.values))

    def said(self, catalog: Catalog) -> str:
        """The sentence in the language of ``catalog``; its English when the catalog's
        translation does not fit the values (a translator's slip never loses the text)."""
        values = {name: _inside(value, catalog) for name, value in self.values.items()}
        try:
            return catalog.gettext(self.template) % values
        except (KeyError, ValueError, TypeError):
            return self.template % {name: _english(value) for name, value in self.values.items()}


class Counted(Sentence):
    """A sentence about a number of things, said in the plural form its count takes (one
    form in English beside the singular; six in Arabic)."""

    plural: str
    number: int

    def __new__(cls, singular: str, plural: str, count: int,
                values: Mapping[str, object]) -> Counted:
        every = {"count": count, **values}
        chosen = singular if count == 1 else plural
        made = str.__new__(cls, chosen % {name: _english(value) for name, value in every.items()})
        made.template, made.plural, made.number, made.values = singular, plural, count, every
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        values = {name: value for name, value in self.values.items() if name != "count"}
        return (type(self), (self.template, self.plural, self.number, values))

    def said(self, catalog: Catalog) -> str:
        values = {name: _inside(value, catalog) for name, value in self.values.items()}
        try:
            return catalog.ngettext(self.template, self.plural, self.number) % values
        except (KeyError, ValueError, TypeError):
            return str(self)


LIST_TEMPLATES = {
    "; ": sentence_template("%(items)s; %(item)s"),
    ", ": sentence_template("%(items)s, %(item)s"),
}
"""How a list goes on, item by item, for each separator a list may have (a language puts
its own punctuation in its catalog)."""


class Listed(Sentence):
    """Sentences one after another, separated as a language separates them."""

    parts: tuple[str, ...]

    def __new__(cls, parts: Iterable[str], separator: str = "; ") -> Listed:
        kept = tuple(parts)
        made = str.__new__(cls, separator.join(kept))
        made.template = LIST_TEMPLATES[separator]
        made.values = {}
        made.parts = kept
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        separator = next(mark for mark, template in LIST_TEMPLATES.items()
                         if template == self.template)
        return (type(self), (self.parts, separator))

    def said(self, catalog: Catalog) -> str:
        if not self.parts:
            return ""
        items = [_inside(part, catalog) for part in self.parts]
        translated = catalog.gettext(self.template)
        text = items[0]
        for item in items[1:]:
            try:
                text = translated % {"items": text, "item": item}
            except (KeyError, ValueError, TypeError):
                text = self.template % {"items": text, "item": item}
        return text


class Catalog:
    """What a sentence needs of a language: its messages and the words of its values."""

    def gettext(self, message: str) -> str:
        return message

    def pgettext(self, context: str, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return singular if count == 1 else plural

    def word(self, value: enum.Enum) -> str:
        """A value of the record (a grade, a state...) as the language names it."""
        return str(value.value)

    def value(self, value: object) -> str:
        """Any other value set in a sentence (a code, a name, a date), as it is."""
        return str(value)


def sentence(template: str, /, **values: object) -> Sentence:
    """A sentence from its gettext template and its values: ``sentence("graded %(grade)s",
    grade=Grade.FAIR)`` reads "graded fair" in English."""
    return Sentence(template, values)


def said(value: object, catalog: Catalog) -> str:
    """Any text or value in the language of ``catalog``: a sentence translated, a value of
    the record by its word, anything else as it is."""
    if isinstance(value, Sentence):
        return value.said(catalog)
    if isinstance(value, enum.Enum):
        return catalog.word(value)
    return str(value)


def counted_sentence(singular: str, plural: str, /, count: int, **values: object) -> Sentence:
    """A sentence about ``count`` things, in the form its count takes: ``counted_sentence(
    "a minute", "%(count)s minutes", count=5)`` reads "5 minutes" in English."""
    return Counted(singular, plural, count, values)


def sentence_of(error: BaseException) -> str:
    """What an error says, still a sentence when it was made with `sentence` (``str(error)``
    would give its English only)."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, str) else str(error)


def reread(text: str, templates: Iterable[str],
           kinds: Mapping[str, Callable[[str], object]] | None = None) -> str:
    """A text once made by one of ``templates`` and kept as plain text (in a read model's
    column), made a sentence again; ``kinds`` turns a value back into what it was (a
    grade's word into the `Grade`). Text that none of them made stays as it is."""
    for template in templates:
        found = _pattern(template).fullmatch(text)
        if found is None:
            continue
        values: dict[str, object] = dict(found.groupdict())
        for name, kind in (kinds or {}).items():
            if name in values:
                with contextlib.suppress(ValueError):  # not one of them: kept as read
                    values[name] = kind(str(values[name]))
        return Sentence(template, values)
    return text


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", template.replace("%%", "\0"))
    pattern = "".join(re.escape(part.replace("\0", "%")) if index % 2 == 0
                      else f"(?P<{part}>.*?)" for index, part in enumerate(parts))
    return re.compile(pattern, re.S)


def _inside(value: object, catalog: Catalog) -> str:
    if isinstance(value, Sentence | enum.Enum):
        return said(value, catalog)
    return catalog.value(value)


def _english(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _keep(value: object, handler: Callable[[object], object]) -> object:
    return value if isinstance(value, Sentence) else handler(value)


Text = Annotated[str, WrapValidator(_keep)]
"""A document's field of text that keeps a sentence a sentence (pydantic would make it a
plain `str` and lose its template)."""


__all__ = ["LIST_TEMPLATES", "Catalog", "Counted", "Listed", "Sentence", "Text",
           "counted_sentence", "reread", "said", "sentence",
           "sentence_of", "sentence_template"]
