"""Shared helpers of the failure drills: the twelve real handlers, their sample events, GraphQL, the sink's events.

The handlers are loaded the Lambda way (``loopback.runner``), once per process: a warm execution environment.
"""

from __future__ import annotations

import copy
import json
import time
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from loopback.appsync import AppSyncOffline, query_for
from loopback.context import LambdaContext
from loopback.posthog import PostHogSink
from loopback.runner import FunctionSpec, load_handler, load_module, read_functions, snake_case

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema.graphql"
Handler = Callable[[dict[str, Any], Any], Any]

#: Every GraphQL field, with its sample event (``events/<snake_case>.json``).
SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    event["info"]["fieldName"]: event
    for event in (json.loads(path.read_text("utf-8")) for path in sorted((ROOT / "events").glob("*.json")))
}
FIELDS: tuple[str, ...] = tuple(sorted(SAMPLE_EVENTS))
#: The operations that answer through a forced tool (structured output) and those that write a document (text).
TEXT_FIELDS = frozenset({"generateCv", "generateCoverLetter", "generateSpeech"})
STRUCTURED_FIELDS = frozenset(FIELDS) - TEXT_FIELDS
#: What the posthog client sends for each event; the sink adds its own bookkeeping keys next to them.
EVENT_KEYS = ("event", "distinct_id", "properties", "timestamp", "uuid")


@cache
def _specs() -> dict[str, FunctionSpec]:
    return read_functions()


def handler(field: str) -> Handler:
    """The real ``lambda_handler`` of ``field``, imported once (warm) from its function folder."""
    return load_handler(_specs()[snake_case(field)])


def arguments_model(field: str) -> type[BaseModel]:
    """The operation's ``Arguments`` pydantic model."""
    model: type[BaseModel] = load_module(_specs()[snake_case(field)]).Arguments
    return model


def result_model(field: str) -> type[BaseModel]:
    """The model the operation's ``run`` returns."""
    model: type[BaseModel] = typing.get_type_hints(load_module(_specs()[snake_case(field)]).run)["return"]
    return model


def sample_event(field: str, *, sub: str | None = None, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A fresh copy of the sample event of ``field`` (new AppSync request id), optionally for another caller."""
    event = copy.deepcopy(SAMPLE_EVENTS[field])
    event["request"]["headers"]["x-amzn-requestid"] = str(uuid.uuid4())
    if sub is not None:
        event["identity"]["sub"] = sub
        event["identity"]["username"] = sub
        event["identity"]["claims"]["sub"] = sub
    if arguments is not None:
        event["arguments"] = dict(arguments)
    return event


def invoke(field: str, event: dict[str, Any] | None = None, context: LambdaContext | None = None) -> Any:
    """Call the real handler as Lambda would."""
    return handler(field)(
        event if event is not None else sample_event(field),
        context if context is not None else LambdaContext(function_name=field),
    )


def appsync(fields: Iterable[str] = FIELDS) -> AppSyncOffline:
    """The GraphQL API with ``fields`` resolved by their real handlers."""
    return AppSyncOffline(SCHEMA, {field: handler(field) for field in fields})


def graphql(field: str, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolve ``field`` through the schema with the sample event's arguments and caller; AppSync's answer."""
    api = appsync([field])
    api.identity = SAMPLE_EVENTS[field]["identity"]
    args = dict(SAMPLE_EVENTS[field]["arguments"] if arguments is None else arguments)
    return api.execute(query_for(api.schema, field, args), args)


def graphql_error(answer: Mapping[str, Any], field: str) -> str:
    """The one error of a failed resolution (data null, no partial object), as AppSync returns it."""
    assert answer["data"] is None or answer["data"].get(field) is None, f"partial data: {answer['data']}"
    errors = answer.get("errors") or []
    assert len(errors) == 1, errors
    (error,) = errors
    assert error["errorType"] == "Lambda:Unhandled"
    assert error["path"] == [field]
    message: str = error["message"]
    return message


def as_sent(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event recorded by the sink, without the sink's bookkeeping: what the layer sent."""
    return {key: event[key] for key in EVENT_KEYS if key in event}


def wire_bytes(event: Mapping[str, Any]) -> int:
    """The event's size as PostHog's ingestion sees it (UTF-8 JSON), the measure the layer bounds."""
    return len(json.dumps(as_sent(event), ensure_ascii=False, default=str).encode())


def wait_for_uuids(sink: PostHogSink, uuids: set[str], timeout: float = 5.0) -> list[dict[str, Any]]:
    """Wait until the sink holds an event for each uuid in ``uuids``; its events (raises after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        events = sink.events
        if uuids <= {event["uuid"] for event in events}:
            return events
        if time.monotonic() > deadline:
            missing = uuids - {event["uuid"] for event in events}
            raise AssertionError(f"{len(missing)} event(s) never reached the sink: {sorted(missing)}")
        time.sleep(0.02)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``call()``'s result (or the exception it raised) and how long it took, in seconds."""
    started = time.monotonic()
    try:
        result: Any = call()
    except Exception as exc:
        result = exc
    return result, time.monotonic() - started
