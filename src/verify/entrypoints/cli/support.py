"""What every command shares: the store and actor, parameter types, output, error mapping."""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import math
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click
from eventsourcing.persistence import MapperDeserialisationError, PersistenceError
from pydantic import BaseModel, ValidationError

from verify.adapters.store import DEFAULT_STORE, StoreLocation, parse_store
from verify.adapters.team_file import load_team
from verify.application.app import VerifyApp
from verify.application.messages import (
    parse_count,
    parse_day,
    parse_moment,
    parse_time,
    validation_sentence,
)
from verify.application.views import json_bytes
from verify.domain.duties import Team
from verify.domain.errors import InvalidInput, Refused, VerifyError
from verify.domain.sentences import sentence
from verify.domain.values import CasualtyRange, canonical_code

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2

PATH_ERRORS = frozenset({
    errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
    errno.EISDIR, errno.ELOOP, errno.EROFS, errno.EEXIST,
})
"""What the system says of a path given on the command line: bad input (exit 2)."""

Model = TypeVar("Model", bound=BaseModel)


# ------------------------------------------------------------------ context


@dataclass
class Session:
    """The store and the acting person of one command-line invocation."""

    store: StoreLocation
    actor: str
    team_file: Path | None = None
    _app: VerifyApp | None = field(default=None, repr=False)
    _team: Team | None = field(default=None, repr=False)

    @property
    def team(self) -> Team | None:
        """The team the team file names, read when first needed (None without a file)."""
        if self._team is None and self.team_file is not None:
            self._team = load_team(self.team_file)
        return self._team

    def require_store(self) -> None:
        """Refuse a store that does not exist: a mistyped --store never starts an empty one."""
        if not self.store.exists():
            raise InvalidInput(
                f"there is no store at {self.store.label}; run `verify init` to create one "
                "or pass --store"
            )

    def app(self, *, create: bool = False, parents: bool = False) -> VerifyApp:
        """Open the store; refuse to create one unless asked (``verify init``, ``demo``), and
        its missing folders unless asked too (``init --parents``): a mistyped path never
        leaves a tree of folders behind."""
        if self._app is None:
            if not create:
                self.require_store()
            folder = self.store.path.parent if self.store.path is not None else None
            if create and folder is not None and not folder.is_dir():
                if not parents:
                    raise InvalidInput(sentence(
                        "there is no folder %(folder)s: create it first, or run "
                        "`verify init --parents` to create it with the store",
                        folder=shown_path(folder)))
                folder.mkdir(parents=True, exist_ok=True)
            # Only `init` and `demo` create tables: other commands need no right to
            # change the schema, so a team's analysts can run with least privilege.
            self._app = VerifyApp(
                env={**self.store.env(), "CREATE_TABLE": "y" if create else "n"}, team=self.team
            )
            if create:
                self._app.read_model  # noqa: B018 - creates the read-model tables too
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


def resolve_actor(given: str | None) -> str:
    """--actor, else VERIFY_ACTOR, else the OS user."""
    for candidate in (given, os.environ.get("VERIFY_ACTOR")):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def start_session(
    ctx: click.Context, store: str | None, actor: str | None, team: str | None = None
) -> Session:
    session = Session(
        store=parse_store(store or DEFAULT_STORE),
        actor=resolve_actor(actor),
        team_file=Path(team) if team else None,
    )
    ctx.call_on_close(session.close)
    return session


pass_session = click.make_pass_decorator(Session)


# -------------------------------------------------------------- parameters


class CodeType(click.ParamType[str]):
    name = "CODE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return canonical_code(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class CountType(click.ParamType[CasualtyRange]):
    """A casualty count: ``N`` or ``MIN-MAX``."""

    name = "N|MIN-MAX"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> CasualtyRange:
        if isinstance(value, CasualtyRange):
            return value
        try:
            return parse_count(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class DateType(click.ParamType[dt.date]):
    """A day as people write it: 2017-03-17, 17 March 2017, 17/03/2017 (day first), Arabic…"""

    name = "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return parse_day(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class TimeType(click.ParamType[str]):
    """A time of day, HH:MM on the 24-hour clock."""

    name = "HH:MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> str:
        try:
            return parse_time(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class MomentType(click.ParamType[dt.datetime]):
    """An ISO 8601 moment; UTC when no offset is given; a bare date means the end of that day."""

    name = "WHEN"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        try:
            return parse_moment(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class FiniteRange(click.FloatRange):
    """A number within a range, never NaN or infinite (NaN compares false with both bounds).

    ``what`` says what the number is ("a distance in kilometres"), for the refusal.
    """

    def __init__(self, what: str, min: float | None = None, max: float | None = None,
                 min_open: bool = False, max_open: bool = False) -> None:
        super().__init__(min=min, max=max, min_open=min_open, max_open=max_open)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not {self.what}", param, ctx)
        return number


CODE = CodeType()
COUNT = CountType()
DATE = DateType()
TIME = TimeType()
MOMENT = MomentType()


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
    )(function)


def build(model: type[Model], **values: Any) -> Model:
    """Validate a value object from command-line values (errors become one sentence)."""
    return model.model_validate(values)


# ------------------------------------------------------------------ output


def emit_json(document: Any) -> None:
    """Print one JSON document, indented, Unicode kept as is."""
    stream = sys.stdout.buffer
    stream.write(json_bytes(document))
    stream.flush()


_UNSAFE_ON_A_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
"""Control characters (C0 but tab and newline, DEL, C1: ESC starts a terminal's escape
sequences) and the bidi embeddings, overrides and isolates that reorder what is shown."""


def for_terminal(text: str) -> str:
    """Text as a terminal shows it, with each control character spelt out (``\\x1b``).

    What was stored stays as typed; only what a person reads is made inert, so
    imported text cannot move the cursor, recolour, retitle or reorder the screen.
    JSON output is never passed through here: it stays exact.
    """
    return _UNSAFE_ON_A_TERMINAL.sub(lambda found: ascii(found.group())[1:-1], text)


def say(text: str, *, err: bool = False) -> None:
    """Print a line (or lines) for a person: stdout, or stderr with ``err``."""
    click.echo(for_terminal(text), err=err)


# ------------------------------------------------------------------ errors


def exit_for(error: BaseException) -> tuple[int, str]:
    """The exit code and the sentence for an error a user caused or met."""
    if isinstance(error, Refused):
        return EXIT_REFUSED, str(error)
    if isinstance(error, InvalidInput | VerifyError):
        return EXIT_BAD_INPUT, str(error)
    if isinstance(error, ValidationError):
        return EXIT_BAD_INPUT, validation_sentence(error)
    if isinstance(error, click.UsageError):
        hint = ""
        if error.ctx is not None:
            hint = f" (see `{error.ctx.command_path} --help`)"
        return EXIT_BAD_INPUT, error.format_message() + hint
    if isinstance(error, MapperDeserialisationError):
        return EXIT_REFUSED, (
            "the stored events cannot be read: the store is encrypted with another key, or "
            "VERIFY_CIPHER_KEY is missing or set where it should not be"
        )
    if isinstance(error, PersistenceError | sqlite3.Error):
        return EXIT_REFUSED, f"the store could not be used: {error}"
    if isinstance(error, click.Abort):
        return EXIT_REFUSED, "aborted"
    if isinstance(error, click.ClickException):
        return EXIT_BAD_INPUT, error.format_message()
    if isinstance(error, OSError) and error.errno in PATH_ERRORS:
        # A path the system refuses (a store name over 255 bytes, a folder one may not
        # write to): said as the system says it. Other OSErrors stay tracebacks.
        return EXIT_BAD_INPUT, os_sentence(error)
    raise error


_SHOWN_PATH = 80
"""Characters of a path a sentence shows; the rest is counted."""


def shown_path(path: str | bytes | os.PathLike[str]) -> str:
    """A path as a sentence shows it: a long one by its two ends and its length."""
    text = os.fsdecode(path)
    if len(text) <= _SHOWN_PATH:
        return text
    half = _SHOWN_PATH // 2
    return f"{text[:half]}...{text[-half:]} ({len(text):,} characters)"


def os_sentence(error: OSError) -> str:
    """A path the operating system refused (too long, not allowed, missing) as one sentence."""
    reason = error.strerror or os.strerror(error.errno or errno.EIO)
    if error.filename is None:
        return f"the operating system refused: {reason}"
    return f"cannot use {shown_path(error.filename)}: {reason}"


def one_line(sentence: str) -> str:
    """An error as one line: whatever a user typed into it cannot start a second one, nor
    send the terminal an escape sequence."""
    return for_terminal(" ".join(sentence.split()))


def _is_text(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, smuggled in as lone surrogates
        return False
    return True


class VerifyGroup(click.Group):
    """A click group that turns every user-facing error into one sentence and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        arguments = list(sys.argv[1:] if args is None else args)
        for position, argument in enumerate(arguments, start=1):
            if not _is_text(argument):
                click.echo(f"error: argument {position} is not valid UTF-8 text", err=True)
                sys.exit(EXIT_BAD_INPUT)
        try:
            result = super().main(
                arguments, prog_name, complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except BrokenPipeError:
            # The reader went away (`verify export | head`): stop quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_REFUSED)
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help() if error.ctx else str(error))
            sys.exit(0)
        except (VerifyError, ValidationError, click.ClickException, click.Abort,
                PersistenceError, MapperDeserialisationError, sqlite3.Error,
                OSError) as error:
            code, sentence = exit_for(error)
            click.echo(f"error: {one_line(sentence)}", err=True)
            sys.exit(code)
        sys.exit(result if isinstance(result, int) else 0)


@contextmanager
def destination(output: Path | None) -> Iterator[IO[bytes]]:
    """stdout, or a temporary file renamed over OUTPUT once everything is written (nothing is
    left behind when writing fails)."""
    if output is None:
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    folder = output.parent if str(output.parent) else Path(".")
    try:
        if not folder.is_dir():
            raise click.BadParameter(f"the folder {folder} does not exist",
                                     param_hint="--output")
        # A short temporary name: the output's own name may be near the system's limit.
        handle, temporary = tempfile.mkstemp(prefix=".verify-export-", suffix=".part",
                                             dir=folder)
    except OSError as error:
        raise unwritable(output, error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(temporary, output)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, BrokenPipeError):
            raise
        raise unwritable(output, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def unwritable(output: Path, error: OSError) -> click.BadParameter:
    """The export cannot be written where asked: one sentence; nothing is left behind."""
    return click.BadParameter(
        f"cannot write {shown_path(output)}: {error.strerror or error}",
        param_hint="--output")
