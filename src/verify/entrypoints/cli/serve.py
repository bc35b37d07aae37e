"""`verify serve`: the same store, in a team's browsers."""

from __future__ import annotations

import errno
import socket

import click

from verify.domain.errors import InvalidInput
from verify.domain.sentences import sentence
from verify.entrypoints.cli.support import Session, pass_session, say

STARTUP_FAILURE = 3
"""The exit code when the web application fails to start (uvicorn's own)."""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs a team file.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Port to listen on.")
@click.option("--max-upload-mb", "max_upload", type=click.IntRange(1, 10**7),
              help="Largest evidence file taken from a browser or the API, in MB "
              "[default: VERIFY_MAX_UPLOAD_MB, else 2048].")
@pass_session
def serve(session: Session, host: str, port: int, max_upload: int | None) -> None:
    """Serve the review queue, incidents, statistics and a JSON API to browsers.

    Without a team file the server listens on this machine only (loopback)
    and acts as the local actor. With a team file (--team or VERIFY_TEAM)
    members sign in with the passwords set by `verify team add NAME --role R
    --password`; each acts within their role, and separation of duties
    applies as on the command line. A sign-in lasts until sign-out, a
    password change, 12 hours or a restart of the server.

    The server answers only its own host names: loopback names without a
    team file; with one, loopback names and the names in VERIFY_ALLOWED_HOSTS
    (comma-separated; `*` for any), or numeric addresses if it is not set.
    VERIFY_SECRET_KEY,
    if set, signs the session cookie and must be at least 32 random bytes as
    hex or base64 (`verify keygen` prints one); a weaker key stops the server
    from starting. The JSON API's OpenAPI document is at /openapi.json.
    """
    try:
        import uvicorn

        from verify.entrypoints.web.app import create_app
        from verify.entrypoints.web.auth import is_loopback
    except ImportError:
        raise InvalidInput(
            "verify serve needs the web extra: pip install 'verify[web]'"
        ) from None
    if session.team_file is None and not is_loopback(host):
        raise InvalidInput(
            f"without a team file the server listens on loopback only, not {host}; "
            "pass --team FILE so every request needs a signed-in member"
        )
    team = session.team
    if team is not None and not any(m.password_hash or m.tokens for m in team.members.values()):
        raise InvalidInput(
            f"no member of {session.team_file} can sign in or use the API; set a password "
            "with `verify team add NAME --role ROLE --password`, or make a token with "
            "`verify team token NAME`"
        )
    session.require_store()
    web = create_app(session.store, team_file=session.team_file, local_actor=session.actor,
                     max_upload_mb=max_upload)
    listening = listening_socket(host, port)  # before "serving": a busy port is said first
    say(f"serving {session.store.label} at http://{host}:{port}/ "
        f"({'team: ' + str(session.team_file) if team else 'as ' + session.actor}); "
        "Ctrl-C stops")
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
    try:
        server.run(sockets=[listening])
    except KeyboardInterrupt:
        pass
    finally:
        listening.close()
    if not server.started:  # the application failed to start: uvicorn has said why
        raise SystemExit(STARTUP_FAILURE)


def listening_socket(host: str, port: int) -> socket.socket:
    """The address bound as uvicorn binds it (and then handed to it, so no other program
    can take the port in between), or one sentence saying why it cannot be."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise InvalidInput(sentence(
                "port %(port)s on %(host)s is already in use: stop what listens there, or "
                "choose another port with --port", port=port, host=host)) from None
        raise InvalidInput(sentence(
            "cannot listen on %(host)s port %(port)s: %(reason)s", host=host, port=port,
            reason=error.strerror or str(error))) from None
    sock.set_inheritable(True)
    return sock


COMMANDS = (serve,)
