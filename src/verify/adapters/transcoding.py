"""How events become bytes: orjson, with datetimes tagged so they come back as datetimes.

The library's JSONTranscoder does the same job with the standard json module;
this one writes about twice as fast (bench/import_throughput.py measures both).
Event payloads hold only JSON types and datetimes; a UUID would come back as
text, so none is put in a payload (the originator id travels beside it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from eventsourcing.persistence import Transcoder

_TAG = "__datetime__"
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {_TAG: value.isoformat()}
    raise TypeError(f"cannot store a {type(value).__name__} in an event")


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _TAG in value:
            return dt.datetime.fromisoformat(value[_TAG])
        return {key: _untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_untag(item) for item in value]
    return value


class OrjsonTranscoder(Transcoder):
    """Encode event state with orjson; restore tagged datetimes on the way back."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_tag, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        state = orjson.loads(data)
        # The common case: the event's own timestamp is the only datetime in it.
        if data.count(b'"__datetime__"') == 1 and isinstance(state, dict):
            stamp = state.get("timestamp")
            if isinstance(stamp, dict) and len(stamp) == 1 and _TAG in stamp:
                state["timestamp"] = dt.datetime.fromisoformat(stamp[_TAG])
                return state
        return _untag(state)
