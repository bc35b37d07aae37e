"""The web application: server-rendered pages and a JSON API over the same application layer.

Pages work without JavaScript. Every change goes through a form that names
the incident version it was made from and carries the session's CSRF token;
the change runs the same application command as the command line, as the
signed-in member (or the local actor without a team file). The JSON API
serves the documents the command line prints with ``--json``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import jinja2
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from verify.adapters.chart import GRADE_COLOURS
from verify.adapters.store import StoreLocation
from verify.application.app import VerifyApp
from verify.application.messages import moment_as_given, parse_day, parse_moment
from verify.application.readmodels import MAX_LISTING, STATS_GROUPINGS, ListingFilters
from verify.application.views import (
    ErrorDocument,
    HistoryEntry,
    InboxItem,
    IncidentView,
    KnownOnView,
    QueueEntry,
    QueuePage,
    SearchPage,
    StatsDocument,
    json_bytes,
)
from verify.domain.duties import Action
from verify.domain.errors import (
    ConcurrentChange,
    InvalidInput,
    Refused,
    UnknownIncident,
    VerifyError,
)
from verify.domain.rulebook import reason_sentence
from verify.domain.sentences import sentence, sentence_of, sentence_template
from verify.domain.values import (
    Grade,
    Precision,
    Reliability,
    SourceKind,
    State,
    canonical_code,
    is_web_address,
    waiting_sentence,
)
from verify.domain.victims import AgeGroup, Gender, VictimStatus
from verify.entrypoints.web import sessions
from verify.entrypoints.web.actions import (
    ACTIONS,
    Fields,
    add_evidence_file,
    applicable,
    report_incident,
)
from verify.entrypoints.web.api import NotJson, add_routes
from verify.entrypoints.web.api_files import copy_name
from verify.entrypoints.web.auth import (
    BadCsrfToken,
    Gate,
    Identity,
    SignInRequired,
    check_csrf,
    csrf_token,
)
from verify.entrypoints.web.feed import add_feed_routes
from verify.entrypoints.web.freshness import ReadModelKeeper
from verify.entrypoints.web.hosts import AllowedHosts, HostPolicy
from verify.entrypoints.web.i18n import COOKIE as LANGUAGE_COOKIE
from verify.entrypoints.web.i18n import (
    SOURCE_LANGUAGE,
    chosen,
    in_language,
    languages,
    translations,
)
from verify.entrypoints.web.passwords import PasswordChecks
from verify.entrypoints.web.throttle import Throttled
from verify.entrypoints.web.uploads import UploadTooLarge, limited_form, upload_limit_mb

SECURITY_HEADERS = {
    # Nothing runs on these pages: no script at all, styles from this site only, no
    # frames, forms only back to this site. A link someone managed to store cannot run.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

EXPLAINED_REFUSALS = frozenset({"grade", "approve", "resolve"})
"""Changes whose absence the incident page explains (why it cannot be graded, approved or
resolved now); the others are simply not offered."""

STALE_FORM = sentence_template(
    "incident %(code)s changed since you opened it (someone else recorded something); this "
    "is how it stands now. Nothing of yours was recorded: check it and submit again.")

QUEUE_PAGE_SIZE = 100
"""Incidents one queue page lists; the next and previous links go on from there."""

SEARCH_PAGE_SIZE = 50
"""Incidents one search page lists."""

JSON = "application/json"
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDocument, "description": "bad input: the sentence says what"},
    401: {"model": ErrorDocument, "description": "a team's server: sign in or use Basic auth"},
    404: {"model": ErrorDocument, "description": "no incident has this code"},
    429: {"model": ErrorDocument, "description": (
        "a team's server: too many failed sign-ins for this name or from this address "
        "(Basic credentials count); try again after the Retry-After header's seconds")},
    503: {"model": ErrorDocument, "description": "the store could not be used"},
}
T = TypeVar("T")


class Web:
    """What the routes share: the application, the gate, the templates."""

    def __init__(self, app: VerifyApp, gate: Gate, upload_limit: int) -> None:
        self.app = app
        self.gate = gate
        self.upload_limit = upload_limit
        folder = resources.files("verify.entrypoints.web") / "templates"
        self.templates = {code: self._templates(str(folder), code) for code in languages()}
        self.stylesheet = (folder / "style.css").read_bytes()

    def _templates(self, folder: str, language: str) -> Jinja2Templates:
        """The pages in one language: the same templates, that language's catalog."""
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                                 extensions=["jinja2.ext.i18n"])
        env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
        env.tests["web_address"] = is_web_address
        env.filters["moment"] = moment_as_given
        env.filters["say"] = functools.partial(in_language, code=language)
        env.filters["waiting"] = lambda text: in_language(waiting_sentence(text), language)
        env.filters["reason"] = lambda text: in_language(reason_sentence(text), language)
        env.globals.update(
            grades=[grade.value for grade in Grade], states=[state.value for state in State],
            kinds=[kind.value for kind in SourceKind],
            reliabilities=[r.value for r in Reliability],
            precisions=[p.value for p in Precision],
            languages=list(languages().values()),
        )
        return Jinja2Templates(env=env)

    def said(self, request: Request, text: str) -> str:
        """Text the engine made (a sentence made with `sentence`), in the page's language."""
        return in_language(text, language_of(request))

    def identify(self, request: Request) -> Identity:
        return self.gate.identify(request)

    def page(self, request: Request, template: str, status: int = 200,
             headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        identity: Identity | None = context.pop("identity", None)
        language = languages()[language_of(request)]
        return self.templates[language.code].TemplateResponse(
            request, template,
            {"identity": identity, "csrf": csrf_token(request), "language": language,
             "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
             "team": self.gate.team_file is not None,
             "may_report": identity is None or identity.may(Action.REPORT),
             "flash": request.session.pop("flash", None), **context},
            status_code=status, headers=headers,
        )

    def incident_page(self, request: Request, identity: Identity, code: str, *,
                      as_of: str | None = None, version: int | None = None,
                      known_on: str | None = None, error: str | None = None,
                      status: int = 200, reveal: str = "",
                      kept: dict[str, str] | None = None, kept_action: str = ""
                      ) -> HTMLResponse:
        moment = _moment(as_of) if as_of else None
        day = _day(known_on) if known_on else None
        code = _code(code)
        current = self.app.show(code)
        view = self.app.show(code, as_of=moment, version=version) if (moment or version) \
            else current
        known = self.app.known_on(code, day) if day is not None else None
        history = self.app.history(code)
        duplicate = current.duplicate_of is not None
        writable = view.version == current.version and not identity.read_only and not duplicate
        # Only the forms that apply now: the role allows them, and the incident's state
        # would not refuse them (tried on a copy; nothing is saved).
        refusals = self.app.refusals_now(self.app.load(code), identity.name) \
            if writable else {}
        offered = [action for action in ACTIONS.values()
                   if identity.may(action.needs) and applicable(action, duplicate)]
        actions = [action for action in offered if action.name not in refusals]
        not_now = [(action.title, refusals[action.name]) for action in offered
                   if action.name in refusals and action.name in EXPLAINED_REFUSALS]
        team = self.gate.team
        return self.page(
            request, "incident.html", status, identity=identity, view=view, current=current,
            history=history, actions=actions, error=error, as_of=as_of or "",
            known=known, known_on=known_on or "", past=view.version != current.version,
            may_retract=identity.may(Action.CORRECT) and not duplicate, precisions=[
                precision.value for precision in Precision],
            may_record_victims=identity.may(Action.RECORD_VICTIMS) and not duplicate,
            may_erase=identity.may(Action.ERASE),
            victim_statuses=[status.value for status in VictimStatus],
            genders=[gender.value for gender in Gender],
            age_groups=[group.value for group in AgeGroup],
            may_add_file=(identity.may(Action.RECORD_EVIDENCE) and not duplicate
                          and self.app.keeps_files),
            upload_limit=self.upload_limit, reveal=reveal.strip().lower(),
            casework_forms=writable and identity.may(Action.ASSIGN),
            comment_form=writable and identity.may(Action.COMMENT),
            members=sorted(team.members) if team is not None else None,
            thread=threaded(view.comments), kept=kept or {}, kept_action=kept_action,
            not_now=not_now,
        )


def listing_filters(app: VerifyApp, *, state: str, belligerent: str, country: str,
                    assignee: str, tag: str, grade: str, date_from: str,
                    date_to: str) -> ListingFilters:
    """A listing's filters from a page's or the API's query, read as the command line reads
    them (a blank value: no condition)."""
    return ListingFilters(
        state=_state(state), grade=grade.strip() or None,
        belligerent=belligerent.strip() or None, country=country.strip() or None,
        assignee=app.member_named(assignee) if assignee.strip() else None,
        tag=tag.strip() or None,
        date_from=_day(date_from) if date_from.strip() else None,
        date_to=_day(date_to) if date_to.strip() else None)


def paged_url(request: Request, *, after: str | None = None,
              before: str | None = None) -> str | None:
    """The address of the page beside this one: the same query, the other cursor."""
    if after is None and before is None:
        return None
    query = [(key, value) for key, value in request.query_params.multi_items()
             if key not in ("after", "before", "lang")]
    query.append(("after", after) if after is not None else ("before", str(before)))
    return f"{request.url.path}?{urlencode(query)}"


def language_of(request: Request) -> str:
    """The page's language, as the middleware chose it (English outside a request's reach)."""
    return str(getattr(request.state, "language", SOURCE_LANGUAGE))


def _day(text: str) -> dt.date:
    try:
        return parse_day(text)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _moment(text: str) -> dt.datetime:
    try:
        return parse_moment(text)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _status(error: VerifyError) -> int:
    if isinstance(error, UnknownIncident):
        return 404
    if isinstance(error, NotJson):
        return 415
    if isinstance(error, Refused):
        return 409
    return 400


def create_app(store: StoreLocation, *, team_file: Path | None, local_actor: str,
               secret_key: str | None = None, app: VerifyApp | None = None,
               hosts: HostPolicy | None = None,
               passwords: PasswordChecks | None = None,
               max_upload_mb: int | None = None) -> FastAPI:
    """The web application over one store (which must exist).

    An application given must take its team from ``team_file`` too; without one
    the application made here reads the team the gate reads, at each command.
    The session key is ``secret_key``, else ``VERIFY_SECRET_KEY``, else a new
    random one; one given must hold at least 32 random bytes (refused otherwise).
    The host names answered are ``hosts``, else those `HostPolicy` reads from
    ``VERIFY_ALLOWED_HOSTS``. A file sent from a browser may be ``max_upload_mb`` large,
    else what ``VERIFY_MAX_UPLOAD_MB`` says, else 2048 MB.
    """
    upload_limit = upload_limit_mb(max_upload_mb)
    configured = secret_key if secret_key is not None else os.environ.get("VERIFY_SECRET_KEY")
    key = sessions.secret_key(configured) if configured is not None else secrets.token_hex(32)
    policy = hosts or HostPolicy.from_environment(team=team_file is not None)
    gate = Gate(team_file, local_actor, passwords=passwords)
    team = gate.team
    if team is not None:  # the decoy every unknown name is checked against, made once now
        gate.passwords.decoy_now(member.password_hash for member in team.members.values())
    verify_app = app or VerifyApp(env={**store.env(), "CREATE_TABLE": "n"},
                                  team=lambda: gate.team)
    web = Web(verify_app, gate, upload_limit)
    keeper = ReadModelKeeper(verify_app)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        keeper.stop()
        gate.passwords.close()

    api = FastAPI(
        lifespan=lifespan,
        title="verify",
        summary="Verification of allegations of civilian harm from strikes",
        description="The JSON documents are the ones `verify ... --json` prints.",
        version="1",
        docs_url=None, redoc_url=None,
    )
    api.add_middleware(
        SessionMiddleware,
        secret_key=key, session_cookie="verify_session", same_site="strict",
        https_only=os.environ.get("VERIFY_SECURE_COOKIE") == "1",
        max_age=sessions.SESSION_HOURS * 3600,
    )
    api.state.web = web
    api.state.keeper = keeper

    @api.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        asked = request.query_params.get("lang")
        request.state.language = chosen(asked, request.cookies.get(LANGUAGE_COOKIE),
                                        request.headers.get("accept-language"))
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if asked is not None and asked.strip().lower() == request.state.language:
            response.set_cookie(LANGUAGE_COOKIE, request.state.language,
                                max_age=365 * 24 * 3600, samesite="lax")
        return response

    # Outermost: a request for another host name is refused before anything reads it.
    api.add_middleware(AllowedHosts, policy=policy, headers=SECURITY_HEADERS)

    @api.get("/style.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return Response(web.stylesheet, media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})

    @api.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, error: SignInRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": str(error)}), 401, media_type=JSON,
                            headers={"WWW-Authenticate": error.challenge})
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/sign-in?next={target}", status_code=303)

    @api.exception_handler(BadCsrfToken)
    async def bad_csrf(request: Request, _: BadCsrfToken) -> Response:
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": "this change did not come from this site's "
                                                 "pages; nothing was recorded"}), 403,
                            media_type=JSON)
        return web.page(request, "error.html", 403, message=sentence(
            "this form is out of date or did not come from this site; reload the page and "
            "submit it again (nothing was recorded)"))

    @api.exception_handler(Throttled)
    async def throttled(request: Request, error: Throttled) -> Response:
        wait = {"Retry-After": str(error.retry_after)}
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": str(error)}), 429, media_type=JSON,
                            headers=wait)
        return web.page(request, "error.html", 429, wait, message=sentence_of(error))

    @api.exception_handler(VerifyError)
    async def verify_error(request: Request, error: VerifyError) -> Response:
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": str(error)}), _status(error), media_type=JSON)
        return web.page(request, "error.html", _status(error), message=sentence_of(error))

    @api.exception_handler(PersistenceError)
    async def store_failed(request: Request, error: PersistenceError) -> Response:
        message = f"the store could not be used: {error}"
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": message}), 503, media_type=JSON)
        return web.page(request, "error.html", 503, message=message)

    async def threaded(function: Callable[[], T]) -> T:
        return await run_in_threadpool(function)

    # ------------------------------------------------------------------ pages

    @api.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def queue_page(request: Request, state: str = "", belligerent: str = "",
                         country: str = "", assignee: str = "", tag: str = "", grade: str = "",
                         date_from: str = Query(default="", alias="from"),
                         date_to: str = Query(default="", alias="to"), sort: str = "waiting",
                         after: str = "", before: str = "") -> Response:
        identity = web.identify(request)
        filters = listing_filters(verify_app, state=state, belligerent=belligerent,
                                  country=country, assignee=assignee, tag=tag, grade=grade,
                                  date_from=date_from, date_to=date_to)

        def listed() -> QueuePage:
            keeper.fresh()
            return verify_app.queue_page(sort=sort, after=after or None, before=before or None,
                                         limit=QUEUE_PAGE_SIZE, **filters)

        page = await threaded(listed)
        return web.page(request, "queue.html", identity=identity, entries=page.entries,
                        state=state, belligerent=belligerent, country=country,
                        assignee=assignee, tag=tag, grade=grade, date_from=date_from,
                        date_to=date_to, sort=sort, limit=QUEUE_PAGE_SIZE,
                        next_url=paged_url(request, after=page.next),
                        previous_url=paged_url(request, before=page.previous))

    @api.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
    async def inbox_page(request: Request) -> Response:
        identity = web.identify(request)
        items = await threaded(lambda: verify_app.inbox(identity.name))
        return web.page(request, "inbox.html", identity=identity, items=items)

    @api.get("/incidents/{code}", response_class=HTMLResponse, include_in_schema=False)
    async def incident(request: Request, code: str, as_of: str = "",
                       version: int | None = None, known_on: str = "",
                       reveal: str = "") -> Response:
        identity = web.identify(request)
        return await threaded(lambda: web.incident_page(
            request, identity, code, as_of=as_of or None, version=version,
            known_on=known_on or None, reveal=reveal))

    @api.post("/incidents/{code}/files", include_in_schema=False)
    async def add_file(request: Request, code: str) -> Response:
        identity = web.identify(request)
        try:
            form = await limited_form(request, web.upload_limit)
        except UploadTooLarge as error:
            refusal = sentence_of(error)
            return await threaded(lambda: web.incident_page(
                request, identity, code, error=refusal, status=413))
        try:
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
            check_csrf(request, fields.get("csrf"))
            seen = _version(fields.get("version", ""))
            upload = form.get("file")

            def perform() -> Response:
                canonical = _code(code)
                try:
                    if not isinstance(upload, UploadFile) or not upload.filename:
                        raise InvalidInput("choose a file to add")
                    message = add_evidence_file(verify_app, canonical, upload.file,
                                                upload.filename, Fields(fields),
                                                identity.name, seen)
                except ConcurrentChange:
                    return web.incident_page(request, identity, canonical, status=409,
                                             error=sentence(STALE_FORM, code=canonical))
                except UnknownIncident:
                    raise
                except VerifyError as error:
                    return web.incident_page(request, identity, canonical, error=sentence_of(error),
                                             status=_status(error))
                request.session["flash"] = web.said(request, message)
                keeper.fresh()
                return RedirectResponse(f"/incidents/{quote(canonical)}#files", status_code=303)

            return await threaded(perform)
        finally:
            await form.close()

    @api.get("/incidents/{code}/files/{file_id}/thumbnail", include_in_schema=False)
    async def file_thumbnail(request: Request, code: str, file_id: str) -> Response:
        web.identify(request)
        picture = await threaded(lambda: verify_app.file_thumbnail(_code(code), file_id))
        if picture is None:
            return Response(b"", 404)
        return Response(picture, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})

    @api.post("/incidents/{code}/files/{file_id}/copy", include_in_schema=False)
    async def copy_file(request: Request, code: str, file_id: str) -> Response:
        form = {key: value for key, value in (await request.form()).items()
                if isinstance(value, str)}
        check_csrf(request, form.get("csrf"))
        identity = web.identify(request)

        def perform() -> Response:
            canonical = _code(code)
            # Written whole and re-hashed before a byte is sent: bytes that no longer match
            # are refused (nothing recorded), and the copy handed out is the one recorded.
            descriptor, spooled = tempfile.mkstemp(prefix="verify-copy-")
            try:
                with os.fdopen(descriptor, "wb") as spool:
                    found = verify_app.copy_file(canonical, file_id, spool,
                                                 form.get("reason", ""), identity.name)
            except BaseException:
                os.unlink(spooled)
                raise
            keeper.fresh()
            return FileResponse(spooled, media_type="application/octet-stream",
                                filename=copy_name(canonical, found),
                                background=BackgroundTask(os.unlink, spooled))

        return await threaded(perform)

    @api.post("/incidents/{code}/{action}", include_in_schema=False)
    async def incident_action(request: Request, code: str, action: str) -> Response:
        form = {key: value for key, value in (await request.form()).items()
                if isinstance(value, str)}
        check_csrf(request, form.get("csrf"))
        identity = web.identify(request)
        chosen = ACTIONS.get(action)
        if chosen is None:
            raise InvalidInput(f"there is no action {action[:40]!r} on an incident")
        seen = _version(form.get("version", ""))

        def perform() -> Response:
            canonical = _code(code)
            try:
                message = chosen.perform(verify_app, canonical, Fields(form), identity.name,
                                         seen)
            except ConcurrentChange:
                return web.incident_page(request, identity, canonical, status=409,
                                         error=sentence(STALE_FORM, code=canonical), kept=form,
                                         kept_action=action)
            except UnknownIncident:
                raise
            except VerifyError as error:
                return web.incident_page(request, identity, canonical, error=sentence_of(error),
                                         status=_status(error), kept=form, kept_action=action)
            request.session["flash"] = web.said(request, message)
            keeper.fresh()
            anchor = "#discussion" if action == "comment" else ""
            return RedirectResponse(f"/incidents/{quote(canonical)}{anchor}", status_code=303)

        return await threaded(perform)

    @api.get("/report", response_class=HTMLResponse, include_in_schema=False)
    async def report_form(request: Request) -> Response:
        identity = web.identify(request)
        return web.page(request, "report.html", identity=identity, form={}, error=None)

    @api.post("/report", include_in_schema=False)
    async def report(request: Request) -> Response:
        form = {key: value for key, value in (await request.form()).items()
                if isinstance(value, str)}
        check_csrf(request, form.get("csrf"))
        identity = web.identify(request)

        def perform() -> Response:
            try:
                code = report_incident(verify_app, Fields(form), identity.name)
            except VerifyError as error:
                return web.page(request, "report.html", _status(error), identity=identity,
                                form=form, error=sentence_of(error))
            request.session["flash"] = web.said(request, sentence("reported %(code)s", code=code))
            keeper.fresh()
            return RedirectResponse(f"/incidents/{quote(code)}", status_code=303)

        return await threaded(perform)

    @api.get("/stats", response_class=HTMLResponse, include_in_schema=False)
    async def stats_page(request: Request, by: str = "month", as_of: str = "",
                         date_from: str = Query(default="", alias="from"),
                         date_to: str = Query(default="", alias="to")) -> Response:
        identity = web.identify(request)
        first = _day(date_from) if date_from.strip() else None
        last = _day(date_to) if date_to.strip() else None

        def figures() -> tuple[StatsDocument, StatsDocument]:
            moment = _moment(as_of) if as_of.strip() else None
            if moment is None:
                keeper.fresh()
            chosen = verify_app.stats(by=by, as_of=moment, date_from=first, date_to=last)
            monthly = chosen if by == "month" else verify_app.stats(
                by="month", as_of=moment, date_from=first, date_to=last)
            return chosen, monthly

        chosen, monthly = await threaded(figures)
        return web.page(request, "stats.html", identity=identity, stats=chosen, by=by,
                        keys=list(STATS_GROUPINGS), chart=monthly_chart(monthly),
                        as_of=as_of.strip(), date_from=date_from.strip(),
                        date_to=date_to.strip())

    @api.get("/search", response_class=HTMLResponse, include_in_schema=False)
    async def search_page(request: Request, q: str = "", after: str = "",
                          before: str = "") -> Response:
        identity = web.identify(request)

        def found() -> SearchPage:
            if not q.strip():
                return SearchPage(entries=[])
            keeper.fresh()
            return verify_app.search_page(q, after=after or None, before=before or None,
                                          limit=SEARCH_PAGE_SIZE)

        page = await threaded(found)
        return web.page(request, "search.html", identity=identity, q=q, results=page.entries,
                        next_url=paged_url(request, after=page.next),
                        previous_url=paged_url(request, before=page.previous))

    @api.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
    async def sign_in_form(request: Request, next: str = "/") -> Response:
        return web.page(request, "sign_in.html", next=_local(next), error=None)

    @api.post("/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        form = {key: value for key, value in (await request.form()).items()
                if isinstance(value, str)}
        check_csrf(request, form.get("csrf"))
        target = _local(form.get("next", "/"))
        if web.gate.team is None:
            return RedirectResponse(target, status_code=303)
        try:
            signed_in = await web.gate.sign_in(request, form.get("name", "").strip(),
                                               form.get("password", ""))
        except Throttled as error:
            return web.page(request, "sign_in.html", 429,
                            {"Retry-After": str(error.retry_after)}, next=target,
                            error=sentence_of(error))
        if not signed_in:
            return web.page(request, "sign_in.html", 401, next=target,
                            error=sentence("that name and password do not match a member "
                                           "of the team"))
        return RedirectResponse(target, status_code=303)

    @api.post("/sign-out", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form.get("csrf"))
        web.gate.sign_out(request)
        return RedirectResponse("/sign-in", status_code=303)

    # -------------------------------------------------------------------- API

    @api.get("/api/incidents/{code}", response_model=IncidentView, responses=ERRORS,
             summary="An incident, as `verify show CODE --json` prints it")
    async def api_incident(
            request: Request, code: str,
            as_of: str | None = Query(default=None, description=(
                "show it as it stood then: an ISO 8601 date-time, UTC if no offset; "
                "a bare date means the end of that day")),
            version: int | None = Query(default=None, ge=1, description="or at this version"),
    ) -> Response:
        await web.gate.identify_api(request)
        view = await threaded(lambda: verify_app.show(
            _code(code), as_of=_moment(as_of) if as_of else None, version=version))
        return Response(json_bytes(view), media_type=JSON)

    @api.get("/api/incidents/{code}/known-on", response_model=KnownOnView, responses=ERRORS,
             summary="As `verify show CODE --known-on DAY --json`")
    async def api_known_on(
            request: Request, code: str,
            day: str = Query(description=(
                "the day: what had been published by its end, and what the rulebook would "
                "have graded from it")),
    ) -> Response:
        await web.gate.identify_api(request)
        view = await threaded(lambda: verify_app.known_on(_code(code), _day(day)))
        return Response(json_bytes(view), media_type=JSON)

    @api.get("/api/incidents/{code}/history", response_model=list[HistoryEntry],
             responses=ERRORS, summary="As `verify history CODE --json`")
    async def api_history(request: Request, code: str, public: bool = False) -> Response:
        await web.gate.identify_api(request)
        entries = await threaded(lambda: verify_app.history(_code(code), public=public))
        return Response(json_bytes(entries), media_type=JSON)

    @api.get("/api/queue", response_model=list[QueueEntry], responses=ERRORS,
             summary="As `verify queue --json`")
    async def api_queue(request: Request, state: State | None = None,
                        belligerent: str | None = None, country: str | None = None,
                        assignee: str | None = None, tag: str | None = None,
                        limit: int | None = Query(default=None, ge=1, le=MAX_LISTING)) -> Response:
        await web.gate.identify_api(request)

        def entries() -> list[QueueEntry]:
            keeper.fresh()
            person = verify_app.member_named(assignee) if assignee else None
            return verify_app.queue(state=state, belligerent=belligerent,
                                    country=country, limit=limit, assignee=person, tag=tag)

        return Response(json_bytes(await threaded(entries)), media_type=JSON)

    @api.get("/api/incidents", response_model=QueuePage | SearchPage, responses=ERRORS,
             summary="A page of incidents: the queue (as `verify queue --json`), or with `q` "
                     "a search; `next`/`previous` are the cursors of the pages beside it")
    async def api_incidents(
            request: Request,
            q: str | None = Query(default=None, description="search code, place, summary or "
                                  "victims' names, in any script"),
            state: State | None = None, grade: str | None = Query(
                default=None, description="a grade, or ungraded"),
            belligerent: str | None = None, country: str | None = None,
            assignee: str | None = None, tag: str | None = None,
            date_from: str | None = Query(default=None, alias="from",
                                          description="the incident's date on or after"),
            date_to: str | None = Query(default=None, alias="to",
                                        description="the incident's date on or before"),
            sort: str | None = Query(default=None, description=(
                "waiting, date or code (a search: date or code)")),
            after: str | None = Query(default=None, description="the `next` of a page"),
            before: str | None = Query(default=None, description="the `previous` of a page"),
            limit: int = Query(default=100, ge=1, le=MAX_LISTING)) -> Response:
        await web.gate.identify_api(request)
        filters = listing_filters(verify_app, state=state.value if state else "",
                                  belligerent=belligerent or "", country=country or "",
                                  assignee=assignee or "", tag=tag or "", grade=grade or "",
                                  date_from=date_from or "", date_to=date_to or "")

        def listed() -> QueuePage | SearchPage:
            keeper.fresh()
            if q is not None:
                return verify_app.search_page(q, sort=sort or "date", after=after,
                                              before=before, limit=limit, **filters)
            return verify_app.queue_page(sort=sort or "waiting", after=after, before=before,
                                         limit=limit, **filters)

        page = await threaded(listed)
        links = [f'<{url}>; rel="{rel}"' for rel, url in (
            ("next", paged_url(request, after=page.next)),
            ("prev", paged_url(request, before=page.previous))) if url]
        return Response(json_bytes(page), media_type=JSON,
                        headers={"Link": ", ".join(links)} if links else None)

    @api.get("/api/inbox", response_model=list[InboxItem], responses=ERRORS,
             summary="As `verify inbox --json`, for the member signed in")
    async def api_inbox(request: Request) -> Response:
        identity = await web.gate.identify_api(request)
        items = await threaded(lambda: verify_app.inbox(identity.name))
        return Response(json_bytes(items), media_type=JSON)

    @api.get("/api/stats", response_model=StatsDocument, responses=ERRORS,
             summary="As `verify stats --json`")
    async def api_stats(request: Request, by: str = Query(
            default="month", pattern="^(" + "|".join(STATS_GROUPINGS) + ")$"),
            as_of: str | None = Query(default=None, description=(
                "the figures as they stood then, replayed from the log: an ISO 8601 "
                "date-time, UTC if no offset; a bare date means the end of that day")),
            date_from: str | None = Query(default=None, alias="from",
                                          description="only incidents on or after this day"),
            date_to: str | None = Query(default=None, alias="to",
                                        description="only incidents on or before this day"),
            ) -> Response:
        await web.gate.identify_api(request)
        first = _day(date_from) if date_from and date_from.strip() else None
        last = _day(date_to) if date_to and date_to.strip() else None

        def figures() -> StatsDocument:
            if as_of:
                return verify_app.stats(by=by, as_of=_moment(as_of), date_from=first,
                                        date_to=last)
            keeper.fresh()
            return verify_app.stats(by=by, date_from=first, date_to=last)

        return Response(json_bytes(await threaded(figures)), media_type=JSON)

    add_routes(api, verify_app, gate, keeper.fresh)
    add_feed_routes(api, verify_app, gate, web.said)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        template = HTTP_SENTENCES.get(error.status_code)
        refusal = sentence(template, method=request.method) if template else str(error.detail)
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": refusal}), error.status_code,
                            media_type=JSON, headers=error.headers)
        return web.page(request, "error.html", error.status_code, dict(error.headers or {}),
                        message=refusal)

    @api.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> Response:
        refusal = request_sentence(error.errors())
        if request.url.path.startswith("/api/"):
            return Response(json_bytes({"error": refusal}), 400, media_type=JSON)
        return web.page(request, "error.html", 400, message=refusal)

    @api.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def api_docs(request: Request) -> Response:
        return web.page(request, "api.html", identity=None, operations=api_operations(api),
                        example=API_EXAMPLE)

    return api


API_EXAMPLE = """\
curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
     -d '{"url": "https://example.org/report", "publisher": "Airwars", "kind": "ngo", \
"reliability": "B", "credibility": 2}' \\
     http://127.0.0.1:8765/api/incidents/CS1090/sources"""
"""The example the API's page starts with: a source added with a token."""

HTTP_SENTENCES = {
    400: sentence_template("the body could not be read: send JSON, or the page's form as it was"),
    404: sentence_template("there is nothing at this address"),
    405: sentence_template("this address does not take %(method)s requests"),
}
"""The framework's own refusals, as sentences."""


def request_sentence(errors: Sequence[Any]) -> str:
    """The first problem FastAPI found with a request, as one sentence."""
    if not errors:
        return "the request could not be read"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "the request"
    message = str(first.get("msg", "is not valid"))
    message = message[:1].lower() + message[1:]
    if first.get("type") == "json_invalid":
        return "the body is not JSON"
    if first.get("type") == "missing":
        return f"{where} is required"
    pattern = str((first.get("ctx") or {}).get("pattern", ""))
    if first.get("type") == "string_pattern_mismatch" and pattern.startswith("^("):
        choices = pattern.removeprefix("^(").removesuffix(")$").split("|")
        return f"{where} must be one of {', '.join(choices)}, not {first.get('input')!r:.40}"
    return f"{where}: {message}"


def api_operations(api: FastAPI) -> list[dict[str, Any]]:
    """The API's operations as the /docs page lists them, read from its OpenAPI document."""
    document = api.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            body = None
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get(JSON, {}).get("schema", {})
            # A list of objects (strike reports) is described by one object's keys.
            reference = schema.get("$ref", "") or schema.get("items", {}).get("$ref", "")
            if reference:
                model = schemas.get(reference.rsplit("/", 1)[-1], {})
                required = set(model.get("required", []))
                body = [{"name": name, "type": _schema_type(spec),
                         "required": name in required,
                         "description": spec.get("description", "")}
                        for name, spec in model.get("properties", {}).items()]
            operations.append({
                "method": method.upper(), "path": path,
                "summary": operation.get("summary", ""),
                "tag": (operation.get("tags") or ["reading"])[0],
                "parameters": [{"name": p["name"], "in": p["in"],
                                "required": p.get("required", False),
                                "description": p.get("description", "")}
                               for p in operation.get("parameters", [])],
                "body": body,
                "statuses": sorted(operation.get("responses", {})),
            })
    return operations


def _schema_type(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return " | ".join(str(value) for value in spec["enum"])
    if "anyOf" in spec:
        return " or ".join(_schema_type(part) for part in spec["anyOf"]
                           if part != {"type": "null"})
    if spec.get("type") == "array":
        return f"list of {_schema_type(spec.get('items', {}))}"
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[-1]
    return str(spec.get("type", "any"))


def threaded(comments: list[dict[str, Any]], deepest: int = 3) -> list[tuple[dict[str, Any], int]]:
    """Comments in reading order, each answer under the comment it answers, with its depth
    (answers deeper than ``deepest`` are shown at that depth)."""
    answers: dict[str | None, list[dict[str, Any]]] = {}
    for comment in comments:
        answers.setdefault(comment.get("reply_to"), []).append(comment)
    ordered: list[tuple[dict[str, Any], int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for comment in answers.get(parent, []):
            ordered.append((comment, min(depth, deepest)))
            walk(comment["id"], depth + 1)

    walk(None, 0)
    return ordered


def _version(text: str) -> int:
    """The version a form was made from, as its page wrote it (a number, nothing else)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InvalidInput("the form does not say which version of the incident it was "
                           "made from; reload the page")
    return int(text)


def _code(code: str) -> str:
    """A code from a URL; one that cannot be a code is simply not found (404)."""
    try:
        return canonical_code(code)
    except ValueError:
        raise UnknownIncident(code[:40]) from None


def _state(text: str) -> State | None:
    if not text.strip():
        return None
    try:
        return State(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a state: choose one of " + ", ".join(s.value for s in State)
        ) from None


def _local(target: str) -> str:
    """Only redirect within this site (never to another host after signing in)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def monthly_chart(stats: StatsDocument, width: int = 720, height: int = 220) -> dict[str, Any]:
    """Bars for incidents per month, stacked by grade, as plain numbers an SVG template draws."""
    groups = [group for group in stats["groups"] if group["key"]]
    layers = list(GRADE_COLOURS)
    tallest = max((group["incidents"] for group in groups), default=0) or 1
    step = width / max(len(groups), 1)
    bars = []
    for index, group in enumerate(groups):
        bottom = float(height)
        for layer in layers:
            count = group["grades"].get(layer, 0)
            if not count:
                continue
            size = count / tallest * (height - 20)
            bottom -= size
            bar_width = min(max(step - 2, 1), 48)
            bars.append({"x": round(index * step + (step - bar_width) / 2, 1),
                         "y": round(bottom, 1), "width": round(bar_width, 1),
                         "height": round(size, 1),
                         "layer": layer, "month": group["key"], "count": count})
    labels = [{"x": round(index * step + step / 2, 1), "text": group["key"]}
              for index, group in enumerate(groups)
              if len(groups) <= 24 or index % max(len(groups) // 12, 1) == 0]
    return {"width": width, "height": height, "bars": bars, "labels": labels,
            "layers": layers, "tallest": tallest, "colours": GRADE_COLOURS}
