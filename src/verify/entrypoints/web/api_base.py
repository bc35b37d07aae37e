"""What every change of the JSON API shares: the version key, the answer, the errors.

And how a change is read as the incident page's form, and who it acts as.

No ``from __future__ import annotations`` here: the request models are read from the
endpoints' signatures at run time.
"""

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from verify.domain.errors import InvalidInput, Refused, UnknownIncident
from verify.domain.values import canonical_code
from verify.entrypoints.web.actions import Fields
from verify.entrypoints.web.auth import Gate

JSON = "application/json"


class Change(BaseModel):
    """What every change may carry besides its own keys."""

    model_config = ConfigDict(extra="forbid")

    yes_or_no: ClassVar[bool] = False
    """Whether the page's form says yes or no for a true or false key (else: checked or
    not)."""

    version: int | None = Field(default=None, ge=1, description=(
        "the incident's version the change was made from: refused with 409 if anyone "
        "changed it since; leave out to apply to the incident as it stands"))


class Done(BaseModel):
    """The answer to a change that was recorded."""

    code: str
    version: int
    """The incident's version after the change."""
    message: str
    """What the command line prints for the same change."""


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad input: the sentence says what"},
    401: {"description": "no credentials, or a token or password that is not valid"},
    403: {"description": "a session or Basic credentials without the page's CSRF token"},
    404: {"description": "no incident has this code"},
    409: {"description": "refused by a rule, the member's role, or a change made since "
                         "`version`"},
    415: {"description": "not sent as JSON"},
    429: {"description": "too many failed tries; wait Retry-After seconds"},
}

_LISTS = {"belligerents": ", ", "tags": ", ", "sources": " "}
"""Keys given as lists, written as the page's fields write them."""


def form_of(body: BaseModel, **path: str) -> Fields:
    """A change's keys as the incident page's fields, to be read the same way."""
    fields: dict[str, str] = {}
    for key, value in body.model_dump(exclude={"version"}, exclude_none=True,
                                      mode="json").items():
        if isinstance(value, list):
            fields[key] = _LISTS.get(key, ", ").join(str(item) for item in value)
        elif isinstance(value, bool):
            if isinstance(body, Change) and body.yes_or_no:
                fields[key] = "yes" if value else "no"
            elif value:
                fields[key] = "1"
        else:
            fields[key] = str(value)
    fields.update(path)
    return Fields(fields)


class NotJson(InvalidInput):
    """A change sent by a browser's credentials that is not JSON (answered 415)."""

    def __init__(self, sentence: str = "send the change as JSON, with Content-Type: "
                                       "application/json") -> None:
        super().__init__(sentence)


def content_type(request: Request) -> str:
    """The request's media type, without its parameters, in lower case."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def sent_on_purpose(request: Request, needs_csrf: bool) -> None:
    """Refuse a change sent with a browser's credentials (a session, Basic credentials, or
    none without a team) unless it is JSON, which no other site can make a browser send here."""
    if needs_csrf and (content_type(request) != JSON
                       or request.headers.get("sec-fetch-site") == "cross-site"):
        raise NotJson


async def writer(gate: Gate, request: Request) -> str:
    """The member a change sent as JSON acts as."""
    identity, needs_csrf = await gate.identify_writer(request)
    sent_on_purpose(request, needs_csrf)
    return identity.name


def out_of_date(code: str, seen: int) -> Refused:
    """The refusal of a change made from a version that is no longer the incident's."""
    return Refused(f"incident {code} is no longer at version {seen}: someone changed it; "
                   "read it again and send the change with its version now")


def reference(model: type[BaseModel]) -> str:
    """Where the OpenAPI document keeps a model's schema."""
    return f"#/components/schemas/{model.__name__}"


def add_schemas(api: FastAPI, *models: type[BaseModel]) -> None:
    """Put in the OpenAPI document's schemas the models that routes describe by hand (in
    ``openapi_extra``), since they read their bodies themselves."""
    generated = api.openapi

    def document() -> dict[str, Any]:
        described = generated()
        schemas = described.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas.setdefault(model.__name__, schema)
        return described

    api.openapi = document  # type: ignore[method-assign]


def incident_code(code: str) -> str:
    """The code as the store keeps it; one that cannot be a code names no incident (404)."""
    try:
        return canonical_code(code)
    except ValueError:
        raise UnknownIncident(code[:40]) from None


__all__ = ["ERRORS", "JSON", "Change", "Done", "NotJson", "add_schemas", "content_type",
           "form_of", "incident_code", "out_of_date", "reference", "sent_on_purpose", "writer"]
