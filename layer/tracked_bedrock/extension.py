"""Deliver analytics after the response: an internal Lambda extension.

Lambda keeps the execution environment running after the function's response is sent until every registered
extension asks for its next event. This extension, a thread of the runtime process registered during init and
subscribed to INVOKE, takes each finished invocation's events and posts them *after* the runtime has posted the
response, so the caller never waits for PostHog. Only then does it ask for the next event, which lets Lambda
freeze the environment with nothing left in flight.

Where registration is impossible (outside Lambda, in tests, refused, or switched off with
``POSTHOG_DELIVERY_EXTENSION=false``) the layer keeps delivering in the handler, and says so once in the log.
Reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request
from types import FrameType
from typing import Any

from .delivery import deliver, log_undelivered
from .invocation import IN_HANDLER, Invocation, set_delivery_path
from .observability import logger
from .settings import get_settings

EXTENSION_NAME = "tracked-bedrock-delivery"
# Stop delivering this long before the invocation's deadline: Lambda counts extension time in the timeout.
DEADLINE_MARGIN_S = 0.2
# At SIGTERM Lambda allows the runtime a few hundred milliseconds before SIGKILL.
SHUTDOWN_BUDGET_S = 0.2

_start_lock = threading.Lock()
_started = False


class DeliveryExtension:
    """The delivery path used when the extension is registered (see the module docstring)."""

    def __init__(self, runtime_api: str) -> None:
        self._base = f"http://{runtime_api}/2020-01-01/extension"
        self._identifier = ""
        self._lock = threading.Condition()
        self._open: dict[str, list[Invocation]] = {}
        self._closed: dict[str, list[Invocation]] = {}
        # Invocations still running at their deadline: whatever they record afterwards is delivered in the handler.
        self._expired: set[str] = set()
        self._stopped = False

    # -- the delivery path (called from the handler's thread) -----------------------------------------------
    def opened(self, invocation: Invocation) -> None:
        with self._lock:
            self._open.setdefault(invocation.request_id or "", []).append(invocation)

    def closed(self, invocation: Invocation) -> None:
        with self._lock:
            request_id = invocation.request_id or ""
            # Nobody will come for it: the invocation outlived its deadline, or the extension stopped.
            late = request_id in self._expired or self._stopped
            self._expired.discard(request_id)
            still_open = self._open.get(request_id, [])
            if invocation in still_open:
                still_open.remove(invocation)
            if not still_open:
                self._open.pop(request_id, None)
            if not late:
                self._closed.setdefault(request_id, []).append(invocation)
                self._lock.notify_all()
        if late and invocation.events:
            IN_HANDLER.closed(invocation)

    # -- the Extensions API -------------------------------------------------------------------------------
    def register(self) -> None:
        """Register for INVOKE; raises if Lambda refuses (e.g. not in the init phase)."""
        request = urllib.request.Request(
            f"{self._base}/register",
            data=json.dumps({"events": ["INVOKE"]}).encode(),
            headers={"Lambda-Extension-Name": EXTENSION_NAME, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=2) as response:
            self._identifier = response.headers["Lambda-Extension-Identifier"]

    def _next_event(self) -> dict[str, Any]:
        # Blocks while the environment is idle or frozen: no timeout on purpose.
        request = urllib.request.Request(
            f"{self._base}/event/next", headers={"Lambda-Extension-Identifier": self._identifier}
        )
        with urllib.request.urlopen(request) as response:
            event: dict[str, Any] = json.loads(response.read())
            return event

    def run(self) -> None:
        """The extension's loop: for each INVOKE, wait for the handler to finish, deliver, then ask for more."""
        while True:
            try:
                event = self._next_event()
            except Exception as exc:
                logger.warning(
                    "Delivery extension lost the Extensions API; delivering in handler", extra={"error": repr(exc)}
                )
                set_delivery_path(None)
                with self._lock:
                    self._stopped = True
                self.flush_pending(SHUTDOWN_BUDGET_S)
                return
            if event.get("eventType") == "INVOKE":
                self._after_invoke(str(event.get("requestId", "")), float(event.get("deadlineMs", 0)) / 1000)

    def _after_invoke(self, request_id: str, deadline_epoch_s: float) -> None:
        def finished() -> bool:
            return request_id in self._closed and request_id not in self._open

        # The handler is still running: wait for it, but stop in time to deliver what it recorded before the
        # invocation's deadline (Lambda stops everything there).
        give_up_at = deadline_epoch_s - DEADLINE_MARGIN_S - get_settings().posthog_delivery_timeout
        with self._lock:
            self._lock.wait_for(finished, timeout=max(0.0, give_up_at - time.time()))
            still_running = self._open.pop(request_id, [])
            if still_running:
                self._expired.add(request_id)
            invocations = self._closed.pop(request_id, []) + still_running
        events = [event for invocation in invocations for event in _take_events(invocation)]
        if events:
            budget = min(get_settings().posthog_delivery_timeout, deadline_epoch_s - time.time() - DEADLINE_MARGIN_S)
            if budget > 0:
                deliver(events, get_settings(), budget)
            else:
                log_undelivered(events, "no time left before the invocation's deadline")

    def flush_pending(self, budget_s: float) -> None:
        """Deliver (or log) whatever is still held: at shutdown, or when the extension stops."""
        with self._lock:
            invocations = [inv for group in (*self._closed.values(), *self._open.values()) for inv in group]
            self._closed.clear()
            self._open.clear()
        events = [event for invocation in invocations for event in _take_events(invocation)]
        if events:
            deliver(events, get_settings(), budget_s)


def _take_events(invocation: Invocation) -> list[dict[str, Any]]:
    """Remove and return the events recorded so far (a running handler may still append more)."""
    taken = invocation.events[:]
    del invocation.events[: len(taken)]
    return taken


def _on_sigterm(extension: DeliveryExtension, previous: Any) -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("Shutting down: delivering the analytics still held")
        extension.flush_pending(SHUTDOWN_BUDGET_S)
        if callable(previous):
            previous(signum, frame)
        else:
            # SystemExit would wait for the runtime client's polling thread, blocked on the Runtime API until
            # Lambda's SIGKILL: exit now, the environment is going away.
            sys.stdout.flush()
            os._exit(0)

    return handler


def start_delivery_extension() -> bool:
    """Register the extension once per execution environment; False (and in-handler delivery) where it cannot."""
    global _started
    with _start_lock:
        if _started:
            return False
        _started = True
        reason = _unavailable_reason()
        if reason is None:
            extension = DeliveryExtension(os.environ["AWS_LAMBDA_RUNTIME_API"])
            try:
                extension.register()
            except Exception as exc:
                reason = f"registration refused: {exc!r}"
            else:
                threading.Thread(target=extension.run, name=EXTENSION_NAME, daemon=True).start()
                set_delivery_path(extension)
                if threading.current_thread() is threading.main_thread():
                    previous = signal.getsignal(signal.SIGTERM)
                    signal.signal(signal.SIGTERM, _on_sigterm(extension, previous))
                logger.info("Analytics delivered after the response by the internal extension")
                return True
        logger.info("Analytics delivered in the handler", extra={"reason": reason})
        return False


def _unavailable_reason() -> str | None:
    if not get_settings().analytics_enabled:
        return "analytics disabled (POSTHOG_API_KEY is empty)"
    if not get_settings().posthog_delivery_extension:
        return "switched off (POSTHOG_DELIVERY_EXTENSION=false)"
    if not os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        return "not running in Lambda (AWS_LAMBDA_RUNTIME_API is not set)"
    return None


def reset_for_tests() -> None:
    """Forget that the extension was started (tests start several fake environments in one process)."""
    global _started
    with _start_lock:
        _started = False
    set_delivery_path(None)
