"""Delivering an invocation's events to PostHog within a hard time budget.

The posthog client's own queue gives no per-event result and its ``flush(timeout)`` does not bound a request
already in flight, so the layer keeps each invocation's events itself and posts them with the client's own
transport (``posthog.request.batch_post``: same wire format, same session). Whatever cannot be delivered in
time is written to the log as one JSON line per event, under ``posthog_undelivered_event``, ready to replay
(``scripts/replay_undelivered.py``). PostHog de-duplicates on the event's uuid, so a replay is safe.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .observability import logger
from .settings import Settings

UNDELIVERED_KEY = "posthog_undelivered_event"
# PostHog caps a batch at 5 MiB.
MAX_BATCH_BYTES = 4 * 1024 * 1024
# Below this, another attempt cannot finish a round trip: give up and log instead.
MIN_ATTEMPT_SECONDS = 0.05
MAX_ATTEMPTS = 2
LOG_RESERVE_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery did."""

    delivered: int
    undelivered: int
    seconds: float
    attempts: int
    error: str | None = None


def _batches(events: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(json.dumps(event, default=str))
        if batch and size + event_size > MAX_BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def _retryable(exc: Exception) -> bool:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status >= 500 or status in (408, 429)
    return True  # network errors: refused, reset, timed out


def log_undelivered(events: Sequence[dict[str, Any]], reason: str) -> None:
    """Write each event to the log as structured JSON, so nothing is lost silently."""
    for event in events:
        logger.warning(
            "PostHog event not delivered; replay it from this log line",
            extra={UNDELIVERED_KEY: event, "delivery_error": reason},
        )


def _post(batch_post: Callable[..., Any], settings: Settings, batch: list[dict[str, Any]], seconds: float) -> None:
    """One POST of ``batch``, abandoned after ``seconds`` whatever the server does.

    requests' timeout bounds each socket operation, not the call: a server that trickles its answer (measured:
    1.3 s for a 0.3 s timeout), or urllib3's connect retries on https, can outlast it. So the POST runs in a
    worker thread and the caller stops waiting at the deadline. An abandoned POST may still arrive later; its
    events are logged as undelivered anyway, and PostHog de-duplicates a replay on the uuid.
    """
    outcome: list[BaseException | None] = []

    def send() -> None:
        try:
            batch_post(
                settings.posthog_api_key,
                host=settings.posthog_host,
                timeout=seconds,
                batch=batch,
                historical_migration=False,
            )
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=send, name="posthog-delivery", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise TimeoutError(f"PostHog did not answer within {seconds:.2f} s")
    if outcome[0] is not None:
        raise outcome[0]


def deliver(events: Sequence[dict[str, Any]], settings: Settings, budget_s: float | None = None) -> DeliveryReport:
    """Post ``events`` to PostHog, spending at most ``budget_s`` seconds (default: the configured budget).

    Never raises: failures are logged, and the events that did not arrive are logged for replay.
    """
    # Imported on first delivery, not at cold start (posthog pulls in requests: ~150-300 ms of imports), and
    # before the clock starts: a one-off cost per environment must not eat the first invocation's budget.
    from posthog.request import batch_post

    started = time.monotonic()
    budget = settings.posthog_delivery_timeout if budget_s is None else budget_s
    # Keep a little of the budget for logging what could not be delivered, so the whole stays within it.
    deadline = started + budget - min(LOG_RESERVE_SECONDS, budget / 10)
    delivered = undelivered = attempts = 0
    last_error: str | None = None
    for batch in _batches(events):
        sent = False
        for attempt in range(MAX_ATTEMPTS):
            remaining = deadline - time.monotonic()
            if remaining < MIN_ATTEMPT_SECONDS:
                last_error = last_error or f"no time left in the {budget:.2f} s delivery budget"
                break
            attempts += 1
            try:
                _post(batch_post, settings, batch, remaining)
                sent = True
                break
            except Exception as exc:  # the transport raises requests' and posthog's own errors
                last_error = f"{type(exc).__name__}: {exc}"
                if not _retryable(exc) or attempt + 1 == MAX_ATTEMPTS:
                    break
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        if sent:
            delivered += len(batch)
        else:
            undelivered += len(batch)
            log_undelivered(batch, last_error or "unknown error")
    report = DeliveryReport(delivered, undelivered, time.monotonic() - started, attempts, last_error)
    if undelivered:
        logger.warning(
            "PostHog delivery incomplete",
            extra={
                "delivered": delivered,
                "undelivered": undelivered,
                "delivery_seconds": round(report.seconds, 4),
                "delivery_error": last_error,
            },
        )
    return report
