"""Where the event log lives: turn a ``--store`` value into `eventsourcing` settings."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from eventsourcing.utils import get_topic

from verify.adapters.file_store import local_file_store
from verify.adapters.sqlite import ChainedSQLiteRecorder, SQLiteReadModel, read_only_uri
from verify.adapters.transcoding import OrjsonTranscoder
from verify.domain.errors import InvalidInput, Refused

DEFAULT_STORE = "verify.sqlite"


class StoreUnavailable(Refused):
    """The store exists in principle but cannot be reached or used now (exit 1)."""


@dataclass(frozen=True)
class StoreLocation:
    """A parsed store address: the embedded SQLite file or a PostgreSQL database."""

    kind: str
    path: Path | None = None
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """How the store is named to a person (never with a password)."""
        if self.path is not None:
            return str(self.path)
        values = dict(self.settings)
        schema = values.get("POSTGRES_SCHEMA", "public")
        return (
            f"postgresql://{values.get('POSTGRES_USER', '')}@{values['POSTGRES_HOST']}:"
            f"{values['POSTGRES_PORT']}/{values['POSTGRES_DBNAME']}"
            + ("" if schema == "public" else f"?schema={schema}")
        )

    def env(self) -> dict[str, str]:
        """Settings for `eventsourcing.application.Application(env=...)`."""
        return {**self._persistence_env(), **cipher_env(), **self._files_env()}

    def _files_env(self) -> dict[str, str]:
        """Where evidence files' bytes live: ``VERIFY_FILES``, else ``FILE.files/`` beside
        an embedded store (a team store names its folder or bucket itself)."""
        chosen = os.environ.get(FILES_VARIABLE, "").strip()
        if chosen.startswith("s3://"):
            from verify.adapters.object_store import s3_endpoint, s3_file_store

            return {"FILE_STORE_TOPIC": get_topic(s3_file_store), "VERIFY_FILES_URL": chosen,
                    "VERIFY_S3_ENDPOINT": s3_endpoint(), "VERIFY_FILES_PATH": ""}
        if chosen:
            return {"FILE_STORE_TOPIC": get_topic(local_file_store),
                    "VERIFY_FILES_PATH": str(Path(chosen).absolute())}
        if self.path is not None:
            return {"FILE_STORE_TOPIC": get_topic(local_file_store),
                    "VERIFY_FILES_PATH": str(self.path.absolute()) + ".files"}
        return {"FILE_STORE_TOPIC": "", "VERIFY_FILES_PATH": "",
                "FILE_STORE_PROBLEM": f"a team store keeps evidence files where {FILES_VARIABLE} "
                "says: set it to s3://BUCKET (with VERIFY_S3_ENDPOINT) or to a folder every "
                "member can reach"}

    def _persistence_env(self) -> dict[str, str]:
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.path),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
                "TRACKING_RECORDER_TOPIC": get_topic(SQLiteReadModel),
                "TRANSCODER_TOPIC": TRANSCODER_TOPIC,
            }
        settings = dict(self.settings)
        if not settings.get("POSTGRES_PASSWORD"):
            # The library always passes a password to libpq, which then ignores
            # PGPASSWORD; ~/.pgpass (or PGPASSFILE) is still read when this is empty.
            settings["POSTGRES_PASSWORD"] = os.environ.get("PGPASSWORD", "")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER_TOPIC,
            "TRACKING_RECORDER_TOPIC": POSTGRES_READ_MODEL_TOPIC,
            "TRANSCODER_TOPIC": TRANSCODER_TOPIC,
            "POSTGRES_CONNECT_TIMEOUT": "5",
            # One connection opened at once (a command needs no more); up to eight for a
            # server under load, opened when needed.
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "7",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # The hash chain is written by the recorder's normal insert path;
            # the library's optional insert function would bypass it.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            **settings,
        }

    def exists(self) -> bool:
        """Whether the store has been created by ``verify init``."""
        if self.path is None:
            return _postgres_tables_exist(dict(self.settings))
        if not self.path.is_file():
            return False
        try:
            with sqlite3.connect(read_only_uri(self.path), uri=True) as connection:
                row = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='stored_events'"
                ).fetchone()
        except sqlite3.DatabaseError as error:
            raise InvalidInput(f"{self.path} is not a verify store ({error})") from None
        return row is not None


CIPHER_KEY_VARIABLE = "VERIFY_CIPHER_KEY"
FILES_VARIABLE = "VERIFY_FILES"


def cipher_env() -> dict[str, str]:
    """Encrypt events at rest when VERIFY_CIPHER_KEY is set: the library's AES cipher, each
    event bound to its place in the history (`verify.adapters.encryption`)."""
    key = os.environ.get(CIPHER_KEY_VARIABLE, "").strip()
    if not key:
        return {"CIPHER_TOPIC": "", "CIPHER_KEY": "", "MAPPER_TOPIC": ""}
    try:
        size = len(base64.b64decode(key, validate=True))
    except (ValueError, binascii.Error):
        size = 0
    if size not in (16, 24, 32):
        raise InvalidInput(
            f"{CIPHER_KEY_VARIABLE} is not a key: make one with `verify keygen`"
        )
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key, "MAPPER_TOPIC": MAPPER_TOPIC}


def new_cipher_key() -> str:
    """A new random 256-bit key, base64-encoded, for VERIFY_CIPHER_KEY."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


CIPHER_TOPIC = "verify.adapters.encryption:PlaceBoundCipher"
MAPPER_TOPIC = "verify.adapters.encryption:PlaceBoundMapper"
"""Named, not imported: the cipher (and the cryptography package) is loaded only for an
encrypted store."""

POSTGRES_RECORDER_TOPIC = "verify.adapters.postgres:ChainedPostgresRecorder"
POSTGRES_READ_MODEL_TOPIC = "verify.adapters.postgres:PostgresReadModel"
"""Named, not imported: psycopg is only needed for a PostgreSQL store (the postgres extra)."""

TRANSCODER_TOPIC = get_topic(OrjsonTranscoder)
"""Events are encoded with orjson (see docs/performance.md), in every store."""
"""Named by topic, so psycopg is imported only for PostgreSQL stores."""


def _postgres_tables_exist(settings: dict[str, str]) -> bool:
    try:
        import psycopg
    except ImportError:
        raise InvalidInput(
            "PostgreSQL stores need the postgres extra: pip install 'verify[postgres]'"
        ) from None
    parts = {
        "dbname": settings["POSTGRES_DBNAME"], "host": settings["POSTGRES_HOST"],
        "port": settings["POSTGRES_PORT"], "user": settings["POSTGRES_USER"],
        "password": settings["POSTGRES_PASSWORD"] or os.environ.get("PGPASSWORD", ""),
        "connect_timeout": "5",
    }
    conninfo = psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})
    schema = settings.get("POSTGRES_SCHEMA", "public")
    try:
        with psycopg.connect(conninfo) as db:
            found = db.execute("SELECT to_regclass(%s)", (f'"{schema}".verify_events',))
            row = found.fetchone()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StoreUnavailable(
            f"cannot use the PostgreSQL store at {settings['POSTGRES_HOST']}:"
            f"{settings['POSTGRES_PORT']}/{settings['POSTGRES_DBNAME']}: {reason}"
        ) from None
    return row is not None and row[0] is not None


def parse_store(value: str) -> StoreLocation:
    """Parse a file path, ``sqlite:///path`` or ``postgresql://user@host:port/db``."""
    text = value.strip()
    if not text:
        raise InvalidInput("the store must be a file path, sqlite:///PATH or postgresql://...")
    if text.startswith(("postgresql://", "postgres://")):
        return _parse_postgres(text)
    if text.startswith("sqlite://"):
        path = text[len("sqlite://"):]
        if path.startswith("/") and not path.startswith("//"):
            # sqlite:///relative.db -> "relative.db"; sqlite:////abs.db -> "/abs.db"
            path = path[1:]
        elif path.startswith("//"):
            path = path[1:]
        if not path:
            raise InvalidInput("sqlite:/// needs a file path after it")
        return _sqlite(path)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise InvalidInput(f"unknown store kind {scheme!r}: use a file path, sqlite:/// or postgresql://")
    return _sqlite(text)


def _sqlite(path: str) -> StoreLocation:
    if path.startswith(("file:", ":memory:")):
        raise InvalidInput(
            f"a store file name cannot start with {path.split(':')[0] or ':memory'}: (SQLite "
            "would read it as an address, not a file); put ./ in front of it"
        )
    if "\x00" in path:
        raise InvalidInput("a store path cannot contain a NUL character")
    return StoreLocation(kind="sqlite", path=Path(path))


SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""Schema names as PostgreSQL folds them unquoted (the library names them unquoted too)."""


def _parse_postgres(text: str) -> StoreLocation:
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError as error:
        raise InvalidInput(f"the postgresql:// store address cannot be read: {error}") from None
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise InvalidInput("a postgresql:// store needs a database name, as in postgresql://USER@HOST:5432/DB")
    try:
        port = parts.port or 5432
    except ValueError:
        raise InvalidInput("the port in the postgresql:// store is not a number") from None
    query = dict(parse_qsl(parts.query))
    unknown = sorted(set(query) - {"schema"})
    if unknown:
        raise InvalidInput(f"unknown option {unknown[0]!r} in the postgresql:// store; "
                           "only ?schema=NAME is understood")
    schema = query.get("schema", "public")
    if not SCHEMA_NAME.fullmatch(schema):
        raise InvalidInput(
            f"the schema name {schema!r} must be lower-case letters, digits and _, start with a "
            "letter or _, and be at most 63 characters"
        )
    settings = {
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": hostname or "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    return StoreLocation(kind="postgresql", settings=tuple(sorted(settings.items())))
