"""The public change feed on the web: ``/api/changes`` (JSON) and ``/feed.atom`` (Atom 1.0).

Both serve the public view only (`verify changes --public`): protected sources,
victims and files, notes and the team's casework are left out; the internal
view stays with the command line. They follow the team's read rules like
every other reading route: without a team, the local actor (the server
listens on loopback only); with one, a member's token, session or Basic
credentials (which feed readers send), else 401.

``/api/changes?since=CURSOR`` reads forward in log order, as the command line
does, so a client that keeps its cursor misses nothing and sees nothing twice.
``/feed.atom`` shows the latest changes newest first, as feed readers expect,
with a ``rel="next"`` link to the page of earlier ones (RFC 5005 paging); an
entry's id is the incident's address and the change's cursor, the same
at every fetch from the same address.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from verify.application.app import VerifyApp
from verify.application.changes import CHANGES_PAGE, MAX_CHANGES
from verify.application.views import Change, ChangesPage, RecentChanges, json_bytes
from verify.domain.sentences import sentence
from verify.entrypoints.web.api_base import ERRORS, JSON
from verify.entrypoints.web.auth import Gate, SignInRequired
from verify.entrypoints.web.i18n import SOURCE_LANGUAGE

ATOM = "application/atom+xml; charset=utf-8"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

FEED_ENTRIES = 50
"""Changes one page of the Atom feed shows."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold at all, even escaped (most C0 controls, lone surrogates)."""

Say = Callable[[Request, str], str]
"""Text the engine made, in the request's language."""


def add_feed_routes(api: FastAPI, app: VerifyApp, gate: Gate, say: Say) -> None:
    """Add ``/api/changes`` and ``/feed.atom`` to the web application."""

    @api.get("/api/changes", response_model=ChangesPage,
             responses={status: ERRORS[status] for status in (400, 401, 429)},
             summary="The public changes after a cursor, in log order, as `verify changes "
                     "--public --json`; `next_cursor` continues", tags=["reading"])
    async def api_changes(
            request: Request,
            since: str | None = Query(default=None, description=(
                "a change's cursor, or a page's `next_cursor`: the changes after it "
                "(none: from the first)")),
            limit: int = Query(default=CHANGES_PAGE, ge=1, le=MAX_CHANGES)) -> Response:
        await gate.identify_api(request)
        page = await run_in_threadpool(
            lambda: app.changes(since=since or None, limit=limit, public=True))
        headers = None
        if page.next_cursor is not None:
            following = urlencode({"since": page.next_cursor, "limit": limit})
            headers = {"Link": f'<{request.url.path}?{following}>; rel="next"'}
        return Response(json_bytes(page), media_type=JSON, headers=headers)

    @api.get("/feed.atom", include_in_schema=False)
    async def feed_atom(request: Request, before: str = "") -> Response:
        try:
            await gate.identify_api(request)
        except SignInRequired as refusal:  # a feed reader asks for credentials, not a page
            return Response(f"{refusal}\n", 401, media_type="text/plain; charset=utf-8",
                            headers={"WWW-Authenticate": refusal.challenge})
        recent = await run_in_threadpool(
            lambda: app.recent_changes(before=before or None, limit=FEED_ENTRIES,
                                       public=True))
        return Response(atom_feed(request, recent, say), media_type=ATOM)


def atom_feed(request: Request, recent: RecentChanges, say: Say) -> bytes:
    """The changes as an Atom 1.0 document (RFC 4287), every text escaped and made fit for
    XML, in the request's language."""
    base = str(request.base_url).rstrip("/")
    feed = ElementTree.Element("feed", {"xmlns": ATOM_NAMESPACE,
                                        XML_LANG: _language(request)})
    _text(feed, "id", f"{base}/feed.atom")
    _text(feed, "title", say(request, sentence("Public changes to the incidents")))
    newest = recent.changes[0].at if recent.changes else dt.datetime.now(dt.UTC).isoformat()
    _text(feed, "updated", newest)
    _text(_child(feed, "author"), "name", "verify")
    _text(feed, "generator", "verify")
    self_address = f"{base}{request.url.path}" + (
        f"?{request.url.query}" if request.url.query else "")
    _child(feed, "link", rel="self", type="application/atom+xml", href=self_address)
    _child(feed, "link", rel="alternate", type="text/html", href=f"{base}/")
    if recent.earlier is not None:
        _child(feed, "link", rel="next", type="application/atom+xml",
               href=f"{base}/feed.atom?{urlencode({'before': recent.earlier})}")
    for change in recent.changes:
        _entry(feed, base, change, request, say)
    return bytes(ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True))


def _entry(feed: ElementTree.Element, base: str, change: Change, request: Request,
           say: Say) -> None:
    page = f"{base}/incidents/{quote(change.code, safe='')}"
    entry = _child(feed, "entry")
    _text(entry, "id", f"{page}#change-{change.cursor}")
    _text(entry, "title", f"{change.code}: {say(request, change.what)}")
    _text(entry, "updated", change.at)
    _text(entry, "published", change.at)
    if change.by.strip():
        _text(_child(entry, "author"), "name", change.by)
    _child(entry, "link", rel="alternate", type="text/html", href=page)
    told = say(request, change.what) if change.why is None else say(request, sentence(
        "%(what)s; why: %(why)s", what=change.what, why=change.why))
    _text(entry, "content", told, type="text")


def _child(parent: ElementTree.Element, tag: str, **attributes: str) -> ElementTree.Element:
    return ElementTree.SubElement(parent, tag, {name: fit_for_xml(value)
                                                for name, value in attributes.items()})


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str) -> None:
    _child(parent, tag, **attributes).text = fit_for_xml(text)


def _language(request: Request) -> str:
    return str(getattr(request.state, "language", SOURCE_LANGUAGE))


def fit_for_xml(text: str) -> str:
    """The text with each character XML cannot hold replaced by U+FFFD (escaping the
    rest is ElementTree's)."""
    return _NOT_XML.sub("\ufffd", text)
