"""The web interface's languages: gettext message catalogs read with Babel (SPEC 13).

English is the language the interface is written in; every other language is
one catalog file, ``locales/LANG.po`` beside this module, read when the server
starts (no compiled ``.mo`` to keep in step). A page's language comes from
``?lang=`` (remembered in a cookie), else that cookie, else the browser's
``Accept-Language``, else English. Pages carry ``lang`` and ``dir``: Arabic
reads right to left, and the stylesheet uses logical properties so the layout
mirrors with it.
"""

from __future__ import annotations

import enum
import functools
import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from verify.domain.sentences import Catalog, said

SOURCE_LANGUAGE = "en"
COOKIE = "verify_lang"
"""The cookie that remembers a language chosen with ``?lang=``."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    """The language's own name for itself (العربية), as a chooser shows it."""
    direction: str
    """``ltr`` or ``rtl``."""


def _catalog_files() -> dict[str, bytes]:
    folder = resources.files("verify.entrypoints.web") / "locales"
    return {entry.name.removesuffix(".po"): entry.read_bytes() for entry in folder.iterdir()
            if entry.name.endswith(".po")}


@functools.cache
def languages() -> Mapping[str, Language]:
    """The languages shipped: English and one per catalog file."""
    from babel import Locale

    found = {}
    for code in [SOURCE_LANGUAGE, *sorted(_catalog_files())]:
        locale = Locale.parse(code)
        found[code] = Language(code, locale.get_display_name(locale) or code,
                               locale.text_direction)
    return found


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """The catalog of a language (English: the text as written)."""
    if code == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(_catalog_files()[code]), locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


WORD_CONTEXTS = {"Grade": "grade", "State": "state", "SourceKind": "source kind",
                 "Precision": "precision", "StrikeStatus": "strike status",
                 "AssessmentOutcome": "assessment outcome", "VictimStatus": "victim status",
                 "Gender": "gender", "AgeGroup": "age group", "Role": "role"}
"""The context of each kind of value's words in the catalogs (words.html gives the same)."""

ISOLATE, END_ISOLATE = "\u2068", "\u2069"
"""Unicode's first-strong isolate and its end: a value set in a right-to-left sentence (a
code, a name, a date) reads in its own direction and leaves the sentence's order alone."""


class PageCatalog(Catalog):
    """A language's catalog, as sentences made with `sentence` need it."""

    def __init__(self, code: str) -> None:
        self.translations = translations(code)
        self.right_to_left = languages()[code].direction == "rtl"

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def word(self, value: enum.Enum) -> str:
        context = WORD_CONTEXTS.get(type(value).__name__)
        return self.pgettext(context, str(value.value)) if context else self.value(value.value)

    def value(self, value: object) -> str:
        text = str(value)
        return f"{ISOLATE}{text}{END_ISOLATE}" if self.right_to_left and text else text


@functools.cache
def page_catalog(code: str) -> PageCatalog:
    return PageCatalog(code)


def in_language(text: object, code: str) -> str:
    """Text the engine made (a refusal, a line of history, a message) in a page's language:
    a sentence made with `sentence` through the catalog, anything else as it is."""
    if text is None:
        return ""
    return said(text, page_catalog(code))


def chosen(asked: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a page: asked for (``?lang=``), else remembered, else the browser's
    first language this interface speaks, else English."""
    shipped = languages()
    for given in (asked, cookie):
        code = (given or "").strip().lower()
        if code in shipped:
            return code
    for code in _accepted(accept_language or ""):
        if code in shipped:
            return code
        if code.split("-")[0] in shipped:
            return code.split("-")[0]
    return SOURCE_LANGUAGE


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first."""
    weighted = []
    for order, part in enumerate(header.split(",")[:20]):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code and code != "*" and quality > 0:
            weighted.append((-quality, order, code.lower()))
    return [code for _, _, code in sorted(weighted)]


__all__ = ["COOKIE", "SOURCE_LANGUAGE", "Language", "PageCatalog", "chosen", "in_language",
           "languages", "page_catalog", "translations"]
