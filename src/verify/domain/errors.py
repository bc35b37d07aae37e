"""Domain exceptions: each carries one sentence a person can act on."""

from __future__ import annotations

from verify.domain.sentences import sentence


class VerifyError(Exception):
    """Base of every error the program reports to a user without a traceback."""


class Refused(VerifyError):
    """A command would break a rule of the workflow or the rulebook (exit 1)."""


class InvalidInput(VerifyError):
    """The input itself is wrong: a malformed value, an unknown code (exit 2)."""


class UnknownIncident(InvalidInput):
    """No incident has this code."""

    def __init__(self, code: str) -> None:
        super().__init__(sentence("no incident has the code %(code)s", code=code))
        self.code = code


class ConcurrentChange(Refused):
    """Somebody else changed the incident between our read and our write."""

    def __init__(self, code: str) -> None:
        super().__init__(sentence(
            "incident %(code)s changed since you read it; run the command again", code=code))
        self.code = code
