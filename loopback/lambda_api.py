"""The Lambda service side of an execution environment, on loopback: the Runtime API and the Extensions API.

A runtime (``awslambdaric``, see ``loopback.lambda_runtime``) and its extensions talk to this stand-in exactly as
they talk to Lambda through ``AWS_LAMBDA_RUNTIME_API``; tests drive it from the caller's side with ``invoke``.

What it follows, and where from:

- AWS Lambda runtime API, version 2018-06-01 (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
  ``GET /runtime/invocation/next``, ``POST /runtime/invocation/{id}/response``, ``.../{id}/error`` and
  ``POST /runtime/init/error``, with the documented ``Lambda-Runtime-*`` headers.
- AWS Lambda Extensions API, version 2020-01-01
  (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html): ``POST /extension/register``,
  ``GET /extension/event/next``, ``POST /extension/init/error`` and ``/extension/exit/error``. From that page:

  * "Internal extensions are started and stopped by the runtime process, so they are not permitted to register
    for the Shutdown event."
  * "Each phase starts with an event from Lambda to the runtime and to all registered extensions. The runtime and
    each extension signal completion by sending a Next API request. Lambda freezes the execution environment when
    each process has completed and there are no pending events."
  * "After receiving the function response from the runtime, Lambda returns the response to the client, even if
    extensions are still running." -- "The Invoke phase ends after the runtime and all extensions signal that
    they are done by sending a Next API request."
  * Shutdown: at most 0 ms without extensions, 500 ms with an internal extension, 2,000 ms with external ones, of
    which up to 300 ms (500 ms with an internal extension) go to the runtime's graceful shutdown; then SIGKILL.

- Where the pages are silent (status codes and error types, how internal is told from external, SIGTERM), the
  behaviour is that of Lambda's own open-source implementation of this API, RAPID, as shipped in
  https://github.com/aws/aws-lambda-runtime-interface-emulator (lambda/rapi, lambda/core, lambda/rapid):
  refusals are ``403`` with ``{"errorType", "errorMessage"}``; an extension whose name is not one Lambda launched
  from ``/opt/extensions`` is internal; registration closes when the runtime first asks for ``next``; at shutdown
  the runtime is SIGKILLed at once when no extension is registered, otherwise sent SIGTERM and SIGKILLed after its
  share of the deadline, and only then do external extensions get SHUTDOWN (lambda/rapid/shutdown.go). AWS's
  https://github.com/aws-samples/graceful-shutdown-with-aws-lambda says the same of SIGTERM: "When Lambda service
  is about to shut down the runtime, it sends a SIGTERM signal to the runtime and then a SHUTDOWN event to each
  registered external extension."

What it leaves out: re-initialising after a reset (a stand-in that has shut down stays down: start a new one),
payload size limits, response streaming, SnapStart's ``/restore`` routes, the Logs and Telemetry APIs.
"""

from __future__ import annotations

import collections
import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal, Self

RUNTIME_PREFIX: Final = "/2018-06-01/runtime"
EXTENSION_PREFIX: Final = "/2020-01-01/extension"

#: "You can register up to 10 extensions for a function."
MAX_EXTENSIONS: Final = 10
#: Shutdown phase limits from the Extensions API page (seconds).
SHUTDOWN_WITH_INTERNAL_S: Final = 0.5
SHUTDOWN_WITH_EXTERNAL_S: Final = 2.0
RUNTIME_GRACE_S: Final = 0.3
RUNTIME_GRACE_WITH_INTERNAL_S: Final = 0.5

ShutdownReason = Literal["SPINDOWN", "TIMEOUT", "FAILURE"]
_Reply = tuple[int, bytes, dict[str, str]]  # status, body, headers

# Error types as RAPID renders them (lambda/rapi/handler/constants.go, lambda/rapi/rendering).
_INVALID_STATE: Final = "InvalidStateTransition"
_INVALID_REQUEST_ID: Final = "InvalidRequestID"


def _now() -> float:
    return time.monotonic()


def _epoch_ms() -> int:
    return int(time.time() * 1000)


def _new_trace_id() -> str:
    # The X-Ray header format of the runtime API page's example.
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


class ApiError(Exception):
    """A refusal, rendered as Lambda renders it: ``status`` with ``{"errorType": ..., "errorMessage": ...}``."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status, self.error_type, self.message = status, error_type, message


@dataclass(eq=False)
class Invocation:
    """One invocation as the Lambda service sees it. Every ``*_at`` is a ``time.monotonic()`` value."""

    request_id: str
    payload: bytes
    trace_id: str
    #: Lambda-Runtime-Deadline-Ms (Unix ms). Fixed when the invocation is handed to the runtime, unless given.
    deadline_ms: int | None = None
    client_context: str | None = None
    cognito_identity: str | None = None
    queued_at: float = field(default_factory=_now)
    #: The runtime's ``next`` returned this invocation (the INVOKE event went to extensions at the same moment).
    handed_at: float | None = None
    #: The runtime posted its response or error: this is when a synchronous caller gets its answer.
    responded_at: float | None = None
    #: The runtime asked for its next invocation after responding.
    runtime_next_at: float | None = None
    #: Runtime and every extension done: from here on the environment is idle ("frozen") until the next event.
    completed_at: float | None = None
    #: When each extension (by name) received this invocation's INVOKE event...
    extension_invoke_at: dict[str, float] = field(default_factory=dict)
    #: ...and when it next called ``/extension/event/next``, i.e. said it was done with it.
    extension_next_at: dict[str, float] = field(default_factory=dict)
    response_body: bytes | None = None
    response_content_type: str | None = None
    #: The error document (``/error`` body, init error, or the service's own, e.g. ``Sandbox.Timedout``).
    error_body: bytes | None = None
    #: ``Lambda-Runtime-Function-Error-Type`` as posted with the error, or the service's own error type.
    error_type: str | None = None
    xray_error_cause: str | None = None
    #: The function timeout elapsed before runtime and extensions were done; the environment was reset.
    timed_out: bool = False
    _responded: threading.Event = field(default_factory=threading.Event, repr=False, init=False)
    _completed: threading.Event = field(default_factory=threading.Event, repr=False, init=False)
    _deadline_timer: threading.Timer | None = field(default=None, repr=False, init=False)
    _timeout_s: float = field(default=0.0, repr=False, init=False)  # the function timeout this invocation got

    @property
    def responded(self) -> bool:
        """The caller has its answer (response or error)."""
        return self._responded.is_set()

    @property
    def ok(self) -> bool:
        """Answered with a response, not an error."""
        return self.responded and self.error_body is None

    @property
    def response(self) -> Any:
        """The response document, parsed as JSON. Raises if the invocation failed or has no answer yet."""
        if self.response_body is None:
            raise ValueError(f"invocation {self.request_id} has no response (error: {self.error!r})")
        return json.loads(self.response_body)

    @property
    def error(self) -> dict[str, Any] | None:
        """The error document, parsed (``{"raw": ...}`` when it is not a JSON object), or ``None``."""
        if self.error_body is None:
            return None
        with contextlib.suppress(ValueError):
            parsed = json.loads(self.error_body)
            if isinstance(parsed, dict):
                return parsed
        return {"raw": self.error_body.decode(errors="replace")}

    def wait_response(self, timeout_s: float = 10.0) -> Self:
        """Block until the caller has its answer."""
        if not self._responded.wait(timeout_s):
            raise TimeoutError(f"no response to invocation {self.request_id} within {timeout_s} s")
        return self

    def wait_complete(self, timeout_s: float = 10.0) -> Self:
        """Block until the runtime and every extension are done with this invocation."""
        if not self._completed.wait(timeout_s):
            raise TimeoutError(f"invocation {self.request_id} not complete within {timeout_s} s")
        return self

    def _answer_with_error(self, error_type: str, message: str) -> None:
        # The service's own error, as Lambda returns it to a synchronous caller.
        self.error_type = error_type
        self.error_body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
        self.responded_at = _now()
        self._responded.set()


@dataclass(frozen=True)
class ExtensionInfo:
    """A registered extension, as seen at the moment of asking."""

    identifier: str
    name: str
    events: tuple[str, ...]
    internal: bool
    registered_at: float
    #: "registered" (not yet called next), "ready" (waiting in next), "busy" (has an event), or "error".
    state: str
    #: Every call to ``/extension/event/next``.
    next_calls: tuple[float, ...]
    #: ``Lambda-Extension-Function-Error-Type`` from ``/init/error`` or ``/exit/error``, if any.
    error_type: str | None


@dataclass
class ShutdownReport:
    """What ``shutdown`` did: signals to the runtime, SHUTDOWN events to extensions."""

    reason: str
    started_at: float
    deadline_ms: int
    #: ``(signal name, monotonic time)`` in the order sent.
    signals: list[tuple[str, float]] = field(default_factory=list)
    runtime_returncode: int | None = None
    #: Extensions (by name) that picked up the SHUTDOWN event, and when.
    delivered: dict[str, float] = field(default_factory=dict)
    finished_at: float | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request as it arrived on the wire (for asserting what a client sends)."""

    at: float
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Refusal:
    """A request the stand-in refused, with what it answered."""

    at: float
    method: str
    path: str
    status: int
    error_type: str
    message: str


@dataclass(eq=False)
class _Extension:
    identifier: str
    name: str
    events: tuple[str, ...]
    internal: bool
    registered_at: float = field(default_factory=_now)
    waiting: bool = False  # blocked in event/next
    seen_next: bool = False
    error_type: str | None = None
    error_body: bytes | None = None
    next_calls: list[float] = field(default_factory=list)
    queue: collections.deque[tuple[dict[str, Any], Invocation | None]] = field(default_factory=collections.deque)
    current: Invocation | None = None  # the invocation whose INVOKE it holds

    @property
    def gating(self) -> bool:
        # An extension that reported an error gets no more API calls through; it no longer holds the environment.
        return self.error_type is None

    @property
    def idle(self) -> bool:
        return self.waiting and not self.queue

    def info(self) -> ExtensionInfo:
        if self.error_type is not None:
            state = "error"
        elif self.idle:
            state = "ready"
        elif self.seen_next:
            state = "busy"
        else:
            state = "registered"
        return ExtensionInfo(
            self.identifier,
            self.name,
            self.events,
            self.internal,
            self.registered_at,
            state,
            tuple(self.next_calls),
            self.error_type,
        )


class LambdaApiStandIn:
    """Runtime API + Extensions API of one execution environment, on ``127.0.0.1`` (see the module docstring).

    ``address`` is what goes in ``AWS_LAMBDA_RUNTIME_API``. One invocation at a time, as in a Lambda execution
    environment: the next is handed to the runtime only once the previous one is complete (runtime and every
    extension back in ``next``).
    """

    def __init__(
        self,
        *,
        function_name: str = "loopback-function",
        function_version: str = "$LATEST",
        handler: str = "app.handler",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        memory_mb: int = 128,
        timeout_s: float = 30.0,
        external_extensions: Iterable[str] = (),
        enforce_deadlines: bool = True,
        port: int = 0,
    ) -> None:
        """
        Args:
            timeout_s: the function timeout; it bounds runtime *and* extensions (Lambda has no post-invoke phase).
            external_extensions: names that register as external extensions, as if Lambda had started executables
                of those names from ``/opt/extensions``; any other name registers as internal (RAPID's rule).
            enforce_deadlines: reset the environment (TIMEOUT) when an invocation outlives its deadline; a caller
                still waiting then gets ``Sandbox.Timedout``.
        """
        self.function_name = function_name
        self.function_version = function_version
        self.handler = handler
        self.region = region
        self.account_id = account_id
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self.external_extensions = frozenset(external_extensions)
        self.enforce_deadlines = enforce_deadlines

        self._cond = threading.Condition()
        self._queue: collections.deque[Invocation] = collections.deque()
        self._current: Invocation | None = None
        self._assigned: Invocation | None = None  # picked for the runtime's pending next
        self._runtime_waiting = False
        self._registration_open = True
        self._init_done_at: float | None = None
        self._init_error: tuple[str, bytes] | None = None
        self._runtime_exit: str | None = None
        self._shutdown: ShutdownReport | None = None
        self._closed = False
        self._extensions: dict[str, _Extension] = {}
        self._process: subprocess.Popen[Any] | None = None
        self._connections: set[socket.socket] = set()

        #: Every invocation submitted, in order.
        self.invocations: list[Invocation] = []
        #: Every request received, in order.
        self.requests: list[RequestRecord] = []
        #: Every refused request, in order.
        self.refusals: list[Refusal] = []

        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        # Keep-alive connections of a still-running runtime would otherwise make server_close() wait for them.
        self._server.block_on_close = False
        # A short poll interval: close() waits for the serving loop to notice, and tests close many stand-ins.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="lambda-api-stand-in", daemon=True
        )

    # -- lifecycle --------------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving; every blocked ``next`` is answered 500 (container error), as when Lambda goes away."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            for invocation in self.invocations:
                if invocation._deadline_timer is not None:
                    invocation._deadline_timer.cancel()
            self._cond.notify_all()
            connections = list(self._connections)
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    # -- inspection -------------------------------------------------------------------------------------------
    @property
    def extensions(self) -> list[ExtensionInfo]:
        """The registered extensions, in registration order."""
        with self._cond:
            return [ext.info() for ext in self._extensions.values()]

    @property
    def initialized(self) -> bool:
        """The Init phase is over: the runtime and every registered extension have called ``next``."""
        with self._cond:
            return self._init_done_at is not None

    @property
    def init_error(self) -> dict[str, Any] | None:
        """What the runtime posted to ``/runtime/init/error``, if anything."""
        with self._cond:
            if self._init_error is None:
                return None
            error_type, body = self._init_error
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = {"raw": body.decode(errors="replace")}
        return {"errorType": error_type, **parsed} if isinstance(parsed, dict) else {"errorType": error_type}

    @property
    def shutdown_report(self) -> ShutdownReport | None:
        with self._cond:
            return self._shutdown

    def wait_initialized(self, timeout_s: float = 10.0) -> None:
        """Block until the Init phase is over; raise if the runtime reported an init error or the time runs out."""
        with self._cond:
            done = self._cond.wait_for(
                lambda: self._init_done_at is not None or self._init_error is not None or self._closed, timeout_s
            )
            if self._init_error is not None:
                raise RuntimeError(f"runtime init error: {self._init_error[1].decode(errors='replace')}")
            if not done or self._init_done_at is None:
                raise TimeoutError(f"init not complete within {timeout_s} s")

    def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Block until nothing is queued or running (every submitted invocation complete or failed)."""
        with self._cond:
            idle = self._cond.wait_for(
                lambda: not self._queue and (self._current is None or self._shutdown is not None), timeout_s
            )
        if not idle:
            raise TimeoutError(f"environment not idle within {timeout_s} s")

    # -- the runtime process (for signals) --------------------------------------------------------------------
    def attach_runtime(self, process: subprocess.Popen[Any]) -> None:
        """The runtime process to signal at shutdown; its unexpected exit fails pending invocations as Lambda does
        (``Runtime.ExitError``)."""
        with self._cond:
            self._process = process
        threading.Thread(target=self._watch_runtime, args=(process,), name="runtime-watch", daemon=True).start()

    def detach_runtime(self) -> None:
        """Forget the runtime process, e.g. before stopping it deliberately."""
        with self._cond:
            self._process = None

    def _watch_runtime(self, process: subprocess.Popen[Any]) -> None:
        returncode = process.wait()
        with self._cond:
            if self._process is not process or self._shutdown is not None or self._closed:
                return
            cause = f"signal: {signal.Signals(-returncode).name}" if returncode < 0 else f"exit status {returncode}"
            self._runtime_exit = f"Runtime exited with error: {cause}"
            self._fail_pending()
        # Lambda resets the environment after a crash: the remaining extensions get SHUTDOWN (FAILURE).
        self.shutdown("FAILURE")

    # -- the caller's side ------------------------------------------------------------------------------------
    def submit(
        self,
        payload: Any,
        *,
        deadline_ms: int | None = None,
        client_context: Mapping[str, Any] | None = None,
        cognito_identity: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
    ) -> Invocation:
        """Queue an invocation and return at once (see ``invoke``).

        After an init error or a runtime crash the invocation is answered at once with that error, as Lambda answers
        it; after a shutdown the stand-in takes no more (it does not re-initialise): ``RuntimeError``.
        """
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            payload=body,
            trace_id=trace_id or _new_trace_id(),
            deadline_ms=deadline_ms,
            client_context=json.dumps(client_context) if client_context is not None else None,
            cognito_identity=json.dumps(cognito_identity) if cognito_identity is not None else None,
        )
        with self._cond:
            if self._closed:
                raise RuntimeError("the stand-in is closed")
            if self._shutdown is not None and self._init_error is None and self._runtime_exit is None:
                raise RuntimeError(f"the execution environment was shut down ({self._shutdown.reason})")
            self.invocations.append(invocation)
            self._queue.append(invocation)
            self._fail_pending()
            self._advance()
        return invocation

    def invoke(
        self,
        payload: Any,
        *,
        timeout_s: float = 10.0,
        deadline_ms: int | None = None,
        client_context: Mapping[str, Any] | None = None,
        cognito_identity: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
    ) -> Invocation:
        """A synchronous invocation: queue ``payload`` (JSON-serialisable, or ``bytes`` sent as they are) and return
        once the runtime has posted its response or error, without waiting for the extensions.

        Args:
            timeout_s: how long the caller waits for the answer (raises ``TimeoutError``).
            deadline_ms: ``Lambda-Runtime-Deadline-Ms`` (Unix ms); by default handing-out time + ``timeout_s`` of
                the function.
        """
        invocation = self.submit(
            payload,
            deadline_ms=deadline_ms,
            client_context=client_context,
            cognito_identity=cognito_identity,
            trace_id=trace_id,
        )
        return invocation.wait_response(timeout_s)

    def shutdown(self, reason: ShutdownReason = "SPINDOWN", *, idle_timeout_s: float = 10.0) -> ShutdownReport:
        """Shut the execution environment down as Lambda does.

        SPINDOWN first waits for the environment to be idle (Lambda spins down only idle environments). Then: with no
        extension registered the runtime is SIGKILLed; otherwise it gets SIGTERM and its grace period (300 ms, 500 ms
        with an internal extension) before SIGKILL, and then every extension subscribed to SHUTDOWN (only external
        ones can be) gets the event. Idempotent: a second call returns the first report.
        """
        with self._cond:
            if reason == "SPINDOWN":
                self._cond.wait_for(lambda: self._current is None and not self._queue, idle_timeout_s)
            if self._shutdown is not None:
                # Already under way (a reset, say): report it once it is over.
                ongoing = self._shutdown
                self._cond.wait_for(lambda: ongoing.finished_at is not None, SHUTDOWN_WITH_EXTERNAL_S + 5.0)
                return ongoing
            extensions = list(self._extensions.values())
            has_internal = any(ext.internal for ext in extensions)
            has_external = any(not ext.internal for ext in extensions)
            budget_s = SHUTDOWN_WITH_EXTERNAL_S if has_external else SHUTDOWN_WITH_INTERNAL_S if extensions else 0.0
            report = ShutdownReport(reason=reason, started_at=_now(), deadline_ms=_epoch_ms() + int(budget_s * 1000))
            self._shutdown = report
            self._registration_open = False
            self._fail_pending()
            process = self._process
            self._cond.notify_all()

        if process is not None and process.poll() is None:
            if not extensions:
                # "0 ms - A function with no registered extensions": no graceful shutdown at all.
                self._signal(process, signal.SIGKILL, report)
            else:
                grace_s = RUNTIME_GRACE_WITH_INTERNAL_S if has_internal else RUNTIME_GRACE_S
                self._signal(process, signal.SIGTERM, report)
                try:
                    process.wait(grace_s)
                except subprocess.TimeoutExpired:
                    self._signal(process, signal.SIGKILL, report)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(2.0)
        if process is not None:
            report.runtime_returncode = process.poll()

        # Only after the runtime is down do external extensions hear of it (RAPID: shutdownRuntime, shutdownAgents).
        event = {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": report.deadline_ms}
        with self._cond:
            subscribers = [e for e in self._extensions.values() if "SHUTDOWN" in e.events and e.gating]
            for ext in subscribers:
                ext.queue.append((event, None))
            self._cond.notify_all()
            end = report.started_at + budget_s
            self._cond.wait_for(lambda: all(e.name in report.delivered for e in subscribers), max(0.0, end - _now()))
            report.finished_at = _now()
            self._cond.notify_all()
        return report

    @staticmethod
    def _signal(process: subprocess.Popen[Any], sig: signal.Signals, report: ShutdownReport) -> None:
        report.signals.append((sig.name, _now()))
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)

    # -- state machine (all under self._cond) -----------------------------------------------------------------
    def _gating(self) -> list[_Extension]:
        return [ext for ext in self._extensions.values() if ext.gating]

    def _advance(self) -> None:
        """Complete the current invocation and hand out the next one, when runtime and extensions are all idle."""
        if not self._runtime_waiting or self._assigned is not None:
            return
        if not all(ext.idle for ext in self._gating()):
            return
        now = _now()
        if self._init_done_at is None:
            self._init_done_at = now
        current = self._current
        # A timed-out invocation never completes: the environment was reset under it.
        if current is not None and not current.timed_out:
            current.completed_at = now
            if current._deadline_timer is not None:
                current._deadline_timer.cancel()
            current._completed.set()
            self._current = None
        if self._queue and self._shutdown is None and self._init_error is None and self._runtime_exit is None:
            self._dispatch(self._queue.popleft(), now)
        self._cond.notify_all()

    def _dispatch(self, invocation: Invocation, now: float) -> None:
        invocation.handed_at = now
        if invocation.deadline_ms is None:
            invocation.deadline_ms = _epoch_ms() + int(self.timeout_s * 1000)
        invocation._timeout_s = invocation.deadline_ms / 1000 - time.time()
        self._current = invocation
        self._assigned = invocation
        event = {
            "eventType": "INVOKE",
            "deadlineMs": invocation.deadline_ms,
            "requestId": invocation.request_id,
            "invokedFunctionArn": self.function_arn,
            "tracing": {"type": "X-Amzn-Trace-Id", "value": invocation.trace_id},
        }
        for ext in self._gating():
            if "INVOKE" in ext.events:
                ext.queue.append((event, invocation))
        if self.enforce_deadlines:
            remaining_s = max(0.0, invocation.deadline_ms / 1000 - time.time())
            timer = threading.Timer(remaining_s, self._deadline_passed, args=(invocation,))
            timer.daemon = True
            invocation._deadline_timer = timer
            timer.start()

    def _deadline_passed(self, invocation: Invocation) -> None:
        with self._cond:
            if invocation.completed_at is not None or self._closed or self._shutdown is not None:
                return
            invocation.timed_out = True
            if not invocation.responded:
                message = f"Task timed out after {invocation._timeout_s:.2f} seconds"
                invocation._answer_with_error(
                    "Sandbox.Timedout", f"RequestId: {invocation.request_id} Error: {message}"
                )
            self._cond.notify_all()
        # "If the Lambda function crashes or times out during the Invoke phase, Lambda resets the execution
        # environment. The reset behaves like a Shutdown event." (lambda-runtime-environment.html, Invoke phase)
        self.shutdown("TIMEOUT")

    def _fail_pending(self) -> None:
        """Answer whatever can no longer run: after an init error, a runtime crash, or shutdown."""
        if self._init_error is not None:
            error_type, body = self._init_error
        elif self._runtime_exit is not None:
            error_type, body = "Runtime.ExitError", b""
        elif self._shutdown is not None:
            error_type, body = "StandIn.EnvironmentShutDown", b""
        else:
            return
        pending = list(self._queue)
        self._queue.clear()
        if self._current is not None and not self._current.responded and self._init_error is None:
            pending.append(self._current)  # a crash or reset mid-invocation
        for invocation in pending:
            if invocation.responded:
                continue
            if body:
                invocation.error_type, invocation.error_body = error_type, body
                invocation.responded_at = _now()
                invocation._responded.set()
            else:
                message = self._runtime_exit or f"execution environment shut down ({self._shutdown_reason()})"
                invocation._answer_with_error(error_type, f"RequestId: {invocation.request_id} Error: {message}")
        self._cond.notify_all()

    def _shutdown_reason(self) -> str:
        return self._shutdown.reason if self._shutdown is not None else "?"

    # -- Runtime API ------------------------------------------------------------------------------------------
    def _runtime_next(self) -> Invocation:
        with self._cond:
            current = self._current
            if self._runtime_waiting or (current is not None and not current.responded):
                raise ApiError(403, _INVALID_STATE, "the runtime must post a response or error before asking again")
            if current is not None:
                current.runtime_next_at = _now()
            # The runtime's first next ends extension registration (RAPID turns the registration service off).
            self._registration_open = False
            self._runtime_waiting = True
            self._advance()
            self._cond.wait_for(lambda: self._assigned is not None or self._closed)
            self._runtime_waiting = False
            invocation, self._assigned = self._assigned, None
            if invocation is None:
                raise ApiError(500, "InternalServerError", "the Lambda service stand-in is closing")
            return invocation

    def _runtime_result(
        self, request_id: str, body: bytes, headers: Mapping[str, str], *, is_error: bool
    ) -> dict[str, str]:
        with self._cond:
            current = self._current
            if current is None or current.request_id != request_id or current.responded:
                raise ApiError(400, _INVALID_REQUEST_ID, "Invalid request ID")
            if is_error:
                current.error_type = headers.get("lambda-runtime-function-error-type")
                current.error_body = body
                current.xray_error_cause = headers.get("lambda-runtime-function-xray-error-cause")
            else:
                current.response_body = body
                current.response_content_type = headers.get("content-type")
            current.responded_at = _now()
            current._responded.set()
            self._cond.notify_all()
        return {"status": "OK"}

    def _runtime_init_error(self, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        with self._cond:
            if self._init_done_at is not None:
                raise ApiError(403, _INVALID_STATE, "init is over")
            error_type = headers.get("lambda-runtime-function-error-type") or "Runtime.Unknown"
            self._init_error = (error_type, body)
            self._registration_open = False
            # Lambda answers the invocation that triggered the init with the init error.
            self._fail_pending()
        return {"status": "OK"}

    # -- Extensions API ---------------------------------------------------------------------------------------
    def _register(self, name: str, body: bytes, accept_feature: str) -> tuple[dict[str, Any], str]:
        if not name:
            raise ApiError(403, "Extension.InvalidExtensionName", "Empty extension name")
        try:
            request = json.loads(body or b"{}")
            events = request.get("events") or []
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise ValueError("events must be an array of strings")
        except (ValueError, AttributeError) as exc:
            raise ApiError(403, "InvalidRequestFormat", str(exc)) from exc
        internal = name not in self.external_extensions
        for event in events:
            if event == "SHUTDOWN" and internal:
                # "Internal extensions are started and stopped by the runtime process, so they are not permitted
                # to register for the Shutdown event."
                raise ApiError(
                    403, "Extension.InvalidEventType", f"{event}: ShutdownEventNotSupportedForInternalExtension"
                )
            if event not in ("INVOKE", "SHUTDOWN"):
                raise ApiError(403, "Extension.InvalidEventType", f"{event}: ErrorInvalidEventType")
        with self._cond:
            if not self._registration_open:
                raise ApiError(403, "Extension.RegistrationClosed", "Extension registration closed already")
            if len(self._extensions) >= MAX_EXTENSIONS:
                raise ApiError(403, "Extension.TooManyExtensions", f"Extension limit ({MAX_EXTENSIONS}) reached")
            if any(ext.name == name for ext in self._extensions.values()):
                raise ApiError(403, "Extension.InvalidExtensionState", "Extension with this name already registered")
            ext = _Extension(str(uuid.uuid4()), name, tuple(dict.fromkeys(events)), internal)
            self._extensions[ext.identifier] = ext
        answer: dict[str, Any] = {
            "functionName": self.function_name,
            "functionVersion": self.function_version,
            "handler": self.handler,
        }
        if "accountId" in (feature.strip() for feature in accept_feature.split(",")):
            answer["accountId"] = self.account_id
        return answer, ext.identifier

    def _extension(self, identifier: str) -> _Extension:
        if not identifier:
            raise ApiError(403, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header")
        try:
            uuid.UUID(identifier)
        except ValueError as exc:
            raise ApiError(403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier") from exc
        ext = self._extensions.get(identifier)
        if ext is None:
            raise ApiError(403, "Extension.UnknownExtensionIdentifier", f"Unknown extension {identifier}")
        return ext

    def _extension_next(self, identifier: str) -> dict[str, Any]:
        with self._cond:
            ext = self._extension(identifier)
            if ext.error_type is not None or ext.waiting:
                raise ApiError(403, "Extension.InvalidExtensionState", f"extension {ext.name} cannot call next now")
            now = _now()
            ext.next_calls.append(now)
            ext.seen_next = True
            if ext.current is not None:
                ext.current.extension_next_at[ext.name] = now
                ext.current = None
            ext.waiting = True
            self._advance()
            self._cond.wait_for(lambda: bool(ext.queue) or self._closed)
            ext.waiting = False
            if not ext.queue:
                raise ApiError(500, "InternalServerError", "the Lambda service stand-in is closing")
            event, invocation = ext.queue.popleft()
            if invocation is not None:
                ext.current = invocation
                invocation.extension_invoke_at[ext.name] = _now()
            if event["eventType"] == "SHUTDOWN" and self._shutdown is not None:
                self._shutdown.delivered[ext.name] = _now()
            self._cond.notify_all()
            return event

    def _extension_error(self, identifier: str, error_type: str, body: bytes, *, phase: str) -> dict[str, str]:
        with self._cond:
            ext = self._extension(identifier)
            if not error_type:
                raise ApiError(403, "Extension.MissingHeader", "Missing Lambda-Extension-Function-Error-Type header")
            if ext.error_type is not None:
                raise ApiError(403, "Extension.InvalidExtensionState", f"extension {ext.name} already reported")
            if phase == "init" and self._init_done_at is not None:
                raise ApiError(403, "Extension.InvalidExtensionState", "init is over; use /extension/exit/error")
            # "After Lambda receives the error, no further API calls succeed."
            ext.error_type, ext.error_body = error_type, body
            if ext.current is not None:
                ext.current.extension_next_at.setdefault(ext.name, _now())
                ext.current = None
            self._advance()
            self._cond.notify_all()
        return {"status": "OK"}

    # -- HTTP -------------------------------------------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        with self._cond:
            self.requests.append(record)

    def _refused(self, refusal: Refusal) -> None:
        with self._cond:
            self.refusals.append(refusal)

    def _route(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        """Answer one request: ``(status, body, headers)``; raises ``ApiError`` for a refusal."""

        def json_reply(status: int, document: Any, extra: dict[str, str] | None = None) -> _Reply:
            return status, json.dumps(document).encode(), {"Content-Type": "application/json", **(extra or {})}

        parts = path.split("?", 1)[0].rstrip("/").split("/")
        identifier = headers.get("lambda-extension-identifier", "")
        if method == "GET" and path == f"{RUNTIME_PREFIX}/invocation/next":
            invocation = self._runtime_next()
            out = {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id,
            }
            if invocation.client_context is not None:
                out["Lambda-Runtime-Client-Context"] = invocation.client_context
            if invocation.cognito_identity is not None:
                out["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
            return 200, invocation.payload, out
        if method == "POST" and path.startswith(f"{RUNTIME_PREFIX}/invocation/") and len(parts) == 6:
            if parts[5] not in ("response", "error"):
                raise ApiError(404, "NotFound", f"no route {method} {path}")
            return json_reply(202, self._runtime_result(parts[4], body, headers, is_error=parts[5] == "error"))
        if method == "POST" and path == f"{RUNTIME_PREFIX}/init/error":
            return json_reply(202, self._runtime_init_error(body, headers))
        if method == "POST" and path == f"{EXTENSION_PREFIX}/register":
            name = headers.get("lambda-extension-name", "")
            answer, new_id = self._register(name, body, headers.get("lambda-extension-accept-feature", ""))
            return json_reply(200, answer, {"Lambda-Extension-Identifier": new_id})
        if method == "GET" and path == f"{EXTENSION_PREFIX}/event/next":
            event = self._extension_next(identifier)
            extra = {"Lambda-Extension-Identifier": identifier, "Lambda-Extension-Event-Identifier": str(uuid.uuid4())}
            return json_reply(200, event, extra)
        if method == "POST" and path in (f"{EXTENSION_PREFIX}/init/error", f"{EXTENSION_PREFIX}/exit/error"):
            error_type = headers.get("lambda-extension-function-error-type", "")
            phase = "init" if path.endswith("/init/error") else "exit"
            answer = self._extension_error(identifier, error_type, body, phase=phase)
            return json_reply(202, answer, {"Lambda-Extension-Identifier": identifier})
        raise ApiError(404, "NotFound", f"no route {method} {path}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are separate writes; without TCP_NODELAY the body can wait ~40 ms for a delayed ACK.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with api._cond:
                    api._connections.add(self.connection)

            def finish(self) -> None:
                with api._cond:
                    api._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read api.requests instead of stderr noise

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self, method: str) -> None:
                body = self._read_body()
                headers = {key.lower(): value for key, value in self.headers.items()}
                api._record(RequestRecord(_now(), method, self.path, headers, body))
                try:
                    status, payload, out = api._route(method, self.path, headers, body)
                except ApiError as exc:
                    api._refused(Refusal(_now(), method, self.path, exc.status, exc.error_type, exc.message))
                    status = exc.status
                    payload = json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
                    out = {"Content-Type": "application/json"}
                self.send_response(status)
                for key, value in out.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # The runtime process may be gone already (killed at shutdown): nobody left to answer.
                with contextlib.suppress(OSError):
                    self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler
