"""The Lambda service side, on loopback: the Runtime API and the Extensions API, plus a harness that runs a real
handler under the real runtime client (``awslambdaric``) against them.

Follows AWS's published references (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html and
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html) in what the project depends on:

- The runtime asks ``GET /2018-06-01/runtime/invocation/next`` for work and posts ``.../{id}/response`` or
  ``.../{id}/error``; an init failure goes to ``/runtime/init/error``.
- Extensions register with ``POST /2020-01-01/extension/register`` (only during init, i.e. before the runtime's
  first ``next``), then block on ``GET /2020-01-01/extension/event/next``. Extensions registered from the runtime
  process (internal ones, the only kind this stand-in serves) may subscribe to INVOKE, not SHUTDOWN.
- An invocation is complete when the runtime has posted its response (or error) *and* every registered extension
  has asked for its next event. Only then is the next invocation handed out: until that moment the environment
  is not frozen, which is the window an extension uses to work after the response.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

RUNTIME = "/2018-06-01/runtime"
EXTENSION = "/2020-01-01/extension"


@dataclass
class Invocation:
    """One invocation as the service saw it. Times are ``time.time()`` values, comparable with the sink's."""

    request_id: str
    payload: Any
    deadline_ms: int
    queued_at: float = field(default_factory=time.time)
    handed_at: float | None = None
    responded_at: float | None = None
    completed_at: float | None = None
    response: Any = None
    error: Any = None
    #: When each extension asked for its next event after this invocation's INVOKE, by extension name.
    extensions_done_at: dict[str, float] = field(default_factory=dict)
    _responded: threading.Event = field(default_factory=threading.Event, repr=False)
    _completed: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait_complete(self, timeout: float = 10.0) -> Self:
        """Block until the runtime and every extension are done with this invocation."""
        if not self._completed.wait(timeout):
            raise TimeoutError(f"invocation {self.request_id} not complete after {timeout} s")
        return self


@dataclass
class _Extension:
    identifier: str
    name: str
    events: list[str]
    queue: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)
    idle: bool = False  # waiting in event/next: done with whatever it was given


class LambdaService:
    """Runtime API + Extensions API on 127.0.0.1 (``address`` goes in ``AWS_LAMBDA_RUNTIME_API``)."""

    def __init__(self, function_arn: str = "arn:aws:lambda:eu-west-1:000000000000:function:local") -> None:
        self.function_arn = function_arn
        self._cond = threading.Condition()
        self._queue: collections.deque[Invocation] = collections.deque()
        self._current: Invocation | None = None
        self._extensions: dict[str, _Extension] = {}
        self._init_done = False
        self._stopping = False
        self.invocations: list[Invocation] = []
        self.init_errors: list[Any] = []
        self.refused_registrations: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="lambda-service")

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def extensions(self) -> list[str]:
        """Names of the registered extensions."""
        with self._cond:
            return [ext.name for ext in self._extensions.values()]

    # -- the caller's side -------------------------------------------------------------------------------------
    def invoke(self, payload: Any, timeout_s: float = 10.0, function_timeout_s: float = 25.0) -> Invocation:
        """Queue an invocation and return once its response (or error) is posted, as a synchronous caller sees it."""
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            payload=payload,
            deadline_ms=int((time.time() + function_timeout_s) * 1000),
        )
        with self._cond:
            self._queue.append(invocation)
            self.invocations.append(invocation)
            self._cond.notify_all()
        if not invocation._responded.wait(timeout_s):
            raise TimeoutError(f"no response to invocation {invocation.request_id} after {timeout_s} s")
        return invocation

    # -- state machine -----------------------------------------------------------------------------------------
    def _ready_for_next(self) -> bool:
        idle = all(ext.idle for ext in self._extensions.values())
        current_done = self._current is None or self._current.completed_at is not None
        return bool(self._queue) and idle and current_done

    def _check_complete(self) -> None:
        current = self._current
        if current is None or current.completed_at is not None or current.responded_at is None:
            return
        if all(ext.idle for ext in self._extensions.values()):
            current.completed_at = time.time()
            current._completed.set()
            self._cond.notify_all()

    def _runtime_next(self) -> Invocation | None:
        with self._cond:
            self._init_done = True
            while not self._stopping and not self._ready_for_next():
                self._cond.wait(0.5)
            if self._stopping:
                return None
            invocation = self._queue.popleft()
            invocation.handed_at = time.time()
            self._current = invocation
            event = {
                "eventType": "INVOKE",
                "deadlineMs": invocation.deadline_ms,
                "requestId": invocation.request_id,
                "invokedFunctionArn": self.function_arn,
                "tracing": {"type": "X-Amzn-Trace-Id", "value": f"Root=1-{uuid.uuid4().hex[:24]}"},
            }
            for ext in self._extensions.values():
                if "INVOKE" in ext.events:
                    ext.queue.append(event)
            self._cond.notify_all()
            return invocation

    def _runtime_result(self, request_id: str, body: Any, *, error: bool) -> bool:
        with self._cond:
            current = self._current
            if current is None or current.request_id != request_id or current.responded_at is not None:
                return False
            current.responded_at = time.time()
            if error:
                current.error = body
            else:
                current.response = body
            current._responded.set()
            self._check_complete()
            return True

    def _register(self, name: str, events: list[str]) -> tuple[int, dict[str, Any], str | None]:
        with self._cond:
            if self._init_done:
                self.refused_registrations.append(name)
                return (
                    403,
                    {"errorType": "Extension.NotInInit", "errorMessage": "registration is only allowed during init"},
                    None,
                )
            if "SHUTDOWN" in events:
                self.refused_registrations.append(name)
                message = "internal extensions cannot register for SHUTDOWN"
                return (
                    400,
                    {"errorType": "ShutdownEventNotSupportedForInternalExtension", "errorMessage": message},
                    None,
                )
            unknown = set(events) - {"INVOKE"}
            if unknown:
                return (
                    400,
                    {"errorType": "Extension.InvalidEvents", "errorMessage": f"unknown events {sorted(unknown)}"},
                    None,
                )
            identifier = str(uuid.uuid4())
            self._extensions[identifier] = _Extension(identifier, name, events)
            body = {
                "functionName": self.function_arn.rsplit(":", 1)[-1],
                "functionVersion": "$LATEST",
                "handler": "app.lambda_handler",
            }
            return 200, body, identifier

    def _extension_next(self, identifier: str) -> dict[str, Any] | None:
        with self._cond:
            ext = self._extensions.get(identifier)
            if ext is None:
                return None
            ext.idle = True
            current = self._current
            if current is not None and current.completed_at is None and current.handed_at is not None:
                current.extensions_done_at.setdefault(ext.name, time.time())
            self._check_complete()
            self._cond.notify_all()
            while not self._stopping and not ext.queue:
                self._cond.wait(0.5)
            if self._stopping:
                return None
            ext.idle = False
            return ext.queue.popleft()

    # -- HTTP --------------------------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY the body waits ~40 ms for a delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                # The runtime process may be gone (stopped at the end of a test): nobody to answer then.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                if self.path == f"{RUNTIME}/invocation/next":
                    invocation = service._runtime_next()
                    if invocation is None:
                        self._reply(500, {"errorMessage": "service stopping"})
                        return
                    self._reply(
                        200,
                        json.dumps(invocation.payload).encode(),
                        {
                            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                            "Lambda-Runtime-Invoked-Function-Arn": service.function_arn,
                            "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:24]}",
                        },
                    )
                elif self.path == f"{EXTENSION}/event/next":
                    event = service._extension_next(self.headers.get("Lambda-Extension-Identifier", ""))
                    if event is None:
                        self._reply(403, {"errorType": "Extension.Unknown", "errorMessage": "unknown or stopping"})
                    else:
                        self._reply(200, event)
                else:
                    self._reply(404, {"errorMessage": f"no route {self.path}"})

            def do_POST(self) -> None:
                body = self._body()
                parts = self.path.split("/")
                if self.path.startswith(f"{RUNTIME}/invocation/") and parts[-1] in ("response", "error"):
                    parsed = json.loads(body) if body else None
                    accepted = service._runtime_result(parts[-2], parsed, error=parts[-1] == "error")
                    self._reply(202 if accepted else 400, {"status": "OK" if accepted else "invalid request id"})
                elif self.path == f"{RUNTIME}/init/error":
                    service.init_errors.append(json.loads(body) if body else None)
                    self._reply(202, {"status": "OK"})
                elif self.path == f"{EXTENSION}/register":
                    events = json.loads(body or b"{}").get("events", [])
                    status, answer, identifier = service._register(
                        self.headers.get("Lambda-Extension-Name", ""), events
                    )
                    self._reply(status, answer, {"Lambda-Extension-Identifier": identifier} if identifier else None)
                elif self.path in (f"{EXTENSION}/init/error", f"{EXTENSION}/exit/error"):
                    self._reply(202, {"status": "OK"})
                else:
                    self._reply(404, {"errorMessage": f"no route {self.path}"})

        return Handler


class RuntimeProcess:
    """A real ``python -m awslambdaric <handler>`` process serving ``service``, as Lambda starts the runtime."""

    def __init__(
        self,
        service: LambdaService,
        task_root: Path,
        handler: str = "app.lambda_handler",
        *,
        python_paths: list[Path] | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path,
    ) -> None:
        self.service, self.task_root, self.handler, self.log_path = service, task_root, handler, log_path
        paths = [str(task_root), *(str(p) for p in python_paths or [])]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA")},
            "AWS_LAMBDA_RUNTIME_API": service.address,
            # As in Lambda's python3.13 runtime: awslambdaric then polls in a thread, so the main thread can
            # take signals (SIGTERM at shutdown).
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": "local",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/local",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": handler,
            "PYTHONPATH": os.pathsep.join(paths),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", self.handler],
            cwd=self.task_root,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def terminate(self, timeout: float = 5.0) -> int:
        """SIGTERM, as Lambda sends at shutdown when extensions are registered; SIGKILL if it lingers."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __exit__(self, *_: object) -> None:
        self.terminate()
        self._log.close()

    @property
    def output(self) -> str:
        """What the runtime process printed so far (logs included)."""
        return self.log_path.read_text(errors="replace")
