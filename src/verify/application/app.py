"""The application: one object that takes every command and answers every query.

Each job is a mixin in a module of its own, all over one store of aggregates
(`verify.application.base.IncidentStore`): casework (incidents and their
evidence, parties), grading (grades, approvals, disputes), read models (the
queue, statistics and search), queries (an incident now or as it stood,
its history, exports) and the change feed (every change in log order).
"""

from __future__ import annotations

from verify.application.casework import Casework
from verify.application.changes import ChangeFeed
from verify.application.grading import Grading
from verify.application.queries import Queries
from verify.application.teamwork import Teamwork


class VerifyApp(Casework, Grading, Teamwork, Queries, ChangeFeed):
    """Incidents as event-sourced aggregates, driven by intention-revealing commands."""
