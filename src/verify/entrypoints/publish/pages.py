"""The archive's pages in every language the web interface speaks, from one set of templates.

The templates are this package's own, over the web interface's folder as a
second loader: the words of the record's values (words.html), text that reads
left to right (bidi.html) and the stylesheet are the web's, and so are the
catalogs (web/locales), so a word is translated once for both. English pages
are at the archive's root and each other language's under its code (``ar/``);
every link is relative to the page that holds it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jinja2

from verify.entrypoints.web.i18n import SOURCE_LANGUAGE, in_language, languages, translations


class Pages:
    """Renders one page in every language, with the links it needs to reach the others."""

    def __init__(self) -> None:
        own = resources.files("verify.entrypoints.publish") / "templates"
        web = resources.files("verify.entrypoints.web") / "templates"
        self.languages = [SOURCE_LANGUAGE, *(code for code in languages()
                                             if code != SOURCE_LANGUAGE)]
        self.environments = {code: self._environment(str(own), str(web), code)
                             for code in self.languages}

    @staticmethod
    def _environment(own: str, web: str, code: str) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(own),
                                        jinja2.FileSystemLoader(web)]),
            autoescape=True, extensions=["jinja2.ext.i18n"], trim_blocks=True,
            lstrip_blocks=True)
        env.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
        env.filters["say"] = functools.partial(in_language, code=code)
        env.globals["languages"] = [languages()[other] for other in languages()]
        # Made once per language, not imported by every page: 200,000 pages would otherwise
        # run words.html's hundred lookups in the catalog 200,000 times.
        env.globals["words"] = env.get_template("words.html").module
        env.globals["bidi"] = env.get_template("bidi.html").make_module(
            {"language": languages()[code]})
        return env

    def render(self, path: str, template: str, **context: Any) -> Iterator[tuple[str, str]]:
        """(language, HTML) of the page at ``path``, from a language's root."""
        depth = path.count("/")
        home = "../" * depth
        for code in self.languages:
            top = home if code == SOURCE_LANGUAGE else home + "../"
            others = {other: (top if other == SOURCE_LANGUAGE else f"{top}{other}/") + path
                      for other in self.languages if other != code}
            page = self.environments[code].get_template(template)
            yield code, page.render(language=languages()[code], home=home, top=top,
                                    here=path, others=others, **context)
