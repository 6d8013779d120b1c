"""One handler invocation: its trace id, its user, the events of its Bedrock calls, and their delivery.

Every Bedrock call made while an invocation is open shares its ``$ai_trace_id``. When the invocation ends, its
events are handed to the current delivery path: posted before the handler returns (the default), or after the
response by the internal Lambda extension (see ``extension.py``). Analytics never raises into the operation.
"""

from __future__ import annotations

import contextvars
import functools
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .analytics import Generation, generation_event
from .delivery import deliver, log_undelivered
from .observability import MetricUnit, logger, new_metrics
from .settings import get_settings

R = TypeVar("R")


@dataclass(slots=True)
class Invocation:
    """The state of one handler invocation."""

    operation: str
    user_id: str | None = None
    request_id: str | None = None
    function_name: str | None = None
    #: time.monotonic() value at which Lambda will stop the invocation, when known.
    deadline: float | None = None
    trace_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    events: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def seconds_left(self) -> float | None:
        """Time left before Lambda's timeout, or None outside Lambda."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def record(self, gen: Generation) -> None:
        """Account for one finished Bedrock call: a log line, metrics, and (if enabled) a PostHog event."""
        self.calls += 1
        cost = gen.cost.total_usd if gen.cost else 0.0
        logger.info(
            "Bedrock call",
            # Named per line, not only by Powertools' logger-wide keys, which threads running side by side share.
            extra={
                "function_request_id": self.request_id,
                "function_name": self.function_name,
                "operation": gen.operation,
                "ai_trace_id": gen.trace_id,
                "model_id": gen.model_id,
                "input_tokens": gen.input_tokens,
                "output_tokens": gen.output_tokens,
                "cost_usd": cost,
                "latency_s": round(gen.latency_s, 4),
                "retry_attempts": gen.retry_attempts,
                "stop_reason": gen.stop_reason,
                "error_code": gen.error_code,
            },
        )
        settings = get_settings()
        if settings.cloudwatch_metrics:
            metrics = new_metrics(gen.operation)
            metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=gen.input_tokens)
            metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=gen.output_tokens)
            metrics.add_metric(name="CostUSD", unit=MetricUnit.NoUnit, value=cost)
            metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=gen.latency_s * 1000)
            metrics.add_metric(name="Retries", unit=MetricUnit.Count, value=gen.retry_attempts)
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=int(gen.is_error))
            metrics.flush_metrics()
        if settings.analytics_enabled:
            self.events.append(generation_event(gen, settings, self.user_id))


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("tracked_invocation", default=None)


def current_invocation() -> Invocation | None:
    """The invocation open in this context, if any."""
    return _current.get()


class DeliveryPath(Protocol):
    """Where an invocation's events go. ``opened`` runs when it starts, ``closed`` when it ends (always)."""

    def opened(self, invocation: Invocation) -> None: ...

    def closed(self, invocation: Invocation) -> None: ...


class InHandlerDelivery:
    """Default path: post the events before the handler returns, within the configured budget, so none is
    stranded when Lambda freezes the environment."""

    def opened(self, invocation: Invocation) -> None:
        pass

    def closed(self, invocation: Invocation) -> None:
        if invocation.events:
            deliver(invocation.events, get_settings())


IN_HANDLER = InHandlerDelivery()
_path: DeliveryPath = IN_HANDLER


def set_delivery_path(path: DeliveryPath | None) -> None:
    """Install a delivery path (the extension does, at init); None restores in-handler delivery."""
    global _path
    _path = path or IN_HANDLER


def delivery_path() -> DeliveryPath:
    """The delivery path in use."""
    return _path


@contextmanager
def tracked_invocation(
    operation: str, *, user_id: str | None = None, request_id: str | None = None, context: Any = None
) -> Iterator[Invocation]:
    """Open an invocation: Bedrock calls inside share one trace id; its events are delivered at the end.

    Given the Lambda ``context``, the request id and the deadline come from it.
    """
    deadline = None
    function_name = None
    if context is not None:
        request_id = request_id or getattr(context, "aws_request_id", None)
        function_name = getattr(context, "function_name", None)
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining_ms):
            deadline = time.monotonic() + remaining_ms() / 1000
    invocation = Invocation(
        operation=operation, user_id=user_id, request_id=request_id, function_name=function_name, deadline=deadline
    )
    # Invocations without a Lambda request id (scripts, tests) cannot be matched by the extension.
    path = _path if request_id is not None else IN_HANDLER
    _notify(path.opened, invocation)
    token = _current.set(invocation)
    try:
        yield invocation
    finally:
        _current.reset(token)
        _notify(path.closed, invocation)


def _notify(step: Callable[[Invocation], None], invocation: Invocation) -> None:
    """Run a delivery step; analytics never raises into the operation, and never loses events silently."""
    try:
        step(invocation)
    except Exception as exc:
        logger.warning("Analytics delivery failed", extra={"error": repr(exc)})
        log_undelivered(invocation.events, repr(exc))


def track_invocation(operation: str) -> Callable[[Callable[[Any, Any], R]], Callable[[Any, Any], R]]:
    """Decorator for a plain Lambda handler ``(event, context)``: one tracked invocation per call.

    AppSync resolvers get this from ``appsync_operation``, which also reads the user from the identity.
    """

    def decorate(handler: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
        from .extension import start_delivery_extension

        start_delivery_extension()  # applied at import: Lambda's init phase

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> R:
            with tracked_invocation(operation, context=context):
                return handler(event, context)

        return wrapper

    return decorate
