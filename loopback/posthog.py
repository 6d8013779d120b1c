"""PostHog capture, on loopback: an HTTP server the real ``posthog`` client posts to, recording every event.

It accepts what posthog 7.x sends (``posthog/request.py``, ``consumer.py``, ``capture_v1.py``):

- ``POST /batch/`` (``capture``, ``batch_post``) and ``POST /i/v0/ai/batch/`` (``capture_ai``): JSON
  ``{"api_key", "batch": [{"event", "distinct_id", "properties", "timestamp", "uuid"}], "historical_migration",
  "sent_at"}``, plain or ``Content-Encoding: gzip``. Answered ``200 {"status": 1}``; the client only looks at
  the status code (``_process_response(..., return_json=False)``).
- ``POST /i/v1/analytics/events`` (``capture_mode="v1"``): the key is a ``Bearer`` token, the body
  ``{"created_at", "batch": [...]}``, gzip or deflate. Answered ``200 {"results": {uuid: {"result": "ok"}}}``.
- The single-event endpoints ``/i/v0/e/``, ``/e/``, ``/capture/``, ``/track/`` (one event, a list, or a batch).

A request without an API key is answered 401, as PostHog does; other paths 404.

Failure modes, switchable at any time with :meth:`PostHogSink.set_mode` or ``POST /_standin/mode``:

``ok``
    200, events recorded.
``error``
    The configured status (500 by default, optionally with ``Retry-After``) and a PostHog-shaped error body;
    nothing recorded. ``batch_post`` raises ``posthog.request.APIError``.
``refuse``
    The listening socket is closed, so connecting fails with ``ECONNREFUSED``: the client sees
    ``requests.ConnectionError`` wrapping ``ConnectionRefusedError``, never an HTTP status. While refusing, a
    bound but non-listening socket holds the port (a SYN to it is answered with RST), so switching back
    reopens the same port. Refused attempts never reach the server, so ``attempts["refuse"]`` stays 0.
``reset``
    The request is read (and counted), then the connection is reset (``SO_LINGER`` 0, no FIN): the client
    sees ``requests.ConnectionError`` wrapping ``ConnectionResetError``.
``hang``
    The request is read and held unanswered until the mode changes, then answered as the new mode says (in
    ``ok`` its events are recorded: the server "got" a batch whose sender may have given up, the duplicate
    case). Stopping the server closes held connections without an answer; it never waits for them.
``slow``
    200 after ``delay`` seconds (default 1.0); events recorded.
``trickle``
    200 with headers at once, then the body one byte every ``delay`` seconds (default 0.1): each read
    succeeds within ``requests``' read timeout, so the call outlasts its ``timeout`` (it is not a deadline).

Admin endpoints (on the capture port in every mode but ``refuse``, and on ``admin_url`` when ``admin_port``
is given, which stays up in every mode): ``GET /_standin/state``, ``POST /_standin/mode``
``{"mode", "delay"?, "status"?, "retry_after"?}``, ``POST /_standin/reset``, ``GET /_standin/events[?event=NAME]``,
``GET /_standin/requests``.

Standalone: ``python -m loopback.posthog --port N [--events-path F] [--admin-port M] [--mode MODE]`` prints
one JSON line (``{"host", "admin", "events_path"}``) and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import signal
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, Self, cast, get_args
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

Mode = Literal["ok", "error", "refuse", "reset", "hang", "slow", "trickle"]
MODES: tuple[Mode, ...] = get_args(Mode)
#: ``delay`` when :meth:`PostHogSink.set_mode` is not given one.
DEFAULT_DELAY: Mapping[Mode, float] = {"slow": 1.0, "trickle": 0.1}
DEFAULT_ERROR_STATUS = 500

ADMIN_PREFIX = "/_standin/"
BATCH_PATHS = frozenset({"/batch", "/i/v0/ai/batch"})
V1_PATH = "/i/v1/analytics/events"
SINGLE_EVENT_PATHS = frozenset({"/i/v0/e", "/e", "/capture", "/track"})
# The envelope fields kept with each recorded event (the rest of the envelope is the batch itself).
_ENVELOPE_KEYS = ("sent_at", "created_at", "historical_migration")
# A parsed capture request: its events (each with its ``api_key``) and the envelope fields.
type _Parsed = tuple[list[dict[str, Any]], dict[str, Any]]


class _BadRequest(Exception):
    """A capture request PostHog would reject; carries the status and ``detail`` it would answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _decode_body(body: bytes, encoding: str, query: Mapping[str, list[str]]) -> Any:
    # posthog-js says `?compression=gzip-js` instead of a header; accept both.
    if not encoding and query.get("compression") == ["gzip-js"]:
        encoding = "gzip"
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding not in ("", "identity"):
            raise _BadRequest(400, f"unsupported Content-Encoding {encoding!r}")
        return json.loads(body)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _BadRequest(400, f"malformed request body: {exc}") from None


def _parse_capture(
    path: str, headers: Message, query: Mapping[str, list[str]], body: bytes
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events (each with its ``api_key``) and the envelope of one capture request, or :class:`_BadRequest`."""
    data = _decode_body(body, headers.get("Content-Encoding", "").strip().lower(), query)
    envelope: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("batch"), list):
        envelope = {k: v for k, v in data.items() if k != "batch"}
        raw: list[Any] = data["batch"]
    elif isinstance(data, dict) and "event" in data:
        raw = [data]
    elif isinstance(data, list) and path != V1_PATH:
        raw = data
    else:
        raise _BadRequest(400, "no events in the request body")
    authorization = headers.get("Authorization", "")
    bearer = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else None
    request_key = envelope.pop("api_key", None) or envelope.pop("token", None) or bearer
    events: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            raise _BadRequest(400, "every event needs an 'event' name")
        event = dict(item)
        properties = event.get("properties")
        token = properties.get("token") if isinstance(properties, dict) else None
        event["api_key"] = event.pop("api_key", None) or request_key or token
        if not event["api_key"]:
            raise _BadRequest(401, "API key not provided. You can find your project API key in PostHog.")
        events.append(event)
    return events, envelope


class _CaptureServer(ThreadingHTTPServer):
    """The HTTP server; handlers reach the sink through it."""

    daemon_threads = True
    # Stopping must never wait for a held (`hang`) request; the sink wakes those itself.
    block_on_close = False
    # socketserver's default backlog is 5: with more concurrent clients than that, a connection attempt whose SYN
    # is dropped waits ~1 s for the retransmit, which looked like a PostHog timeout in the concurrency drills.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sink: PostHogSink) -> None:
        self.sink = sink
        self._aborted: set[socket.socket] = set()
        self._aborted_lock = threading.Lock()
        super().__init__(address, _Handler)

    def abort(self, request: socket.socket) -> None:
        """Close ``request`` with a TCP reset instead of an orderly FIN once its handler returns."""
        request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._aborted_lock:
            self._aborted.add(request)

    def shutdown_request(self, request: Any) -> None:
        with self._aborted_lock:
            aborted = request in self._aborted
            self._aborted.discard(request)
        if aborted:
            # No shutdown(SHUT_WR): that would send a FIN first and the client would read a clean EOF.
            request.close()
        else:
            super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, reset) makes our late write fail; that is expected here.
        log.debug("posthog stand-in: error while handling a request from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _CaptureServer
    # HTTP/1.0 closes the connection after each answer: no pooled keep-alive connection outlives a switch to
    # `refuse`, and every attempt is a fresh connect.
    protocol_version = "HTTP/1.0"
    server_version = "posthog-standin/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("posthog stand-in: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length > 0 else b"")

    def _dispatch(self, body: bytes) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path.startswith(ADMIN_PREFIX):
            self.server.sink._serve_admin(self, url.path.removeprefix(ADMIN_PREFIX).rstrip("/"), query, body)
        else:
            self.server.sink._serve_capture(self, url.path, query, body)

    def send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        """Answer ``status`` with a JSON body."""
        data = json.dumps(payload, default=str).encode()
        self._send_head(status, len(data), headers)
        self.wfile.write(data)

    def trickle_json(self, payload: Any, delay: float, stopping: threading.Event) -> None:
        """Answer 200 with the headers at once and the body one byte every ``delay`` seconds."""
        data = json.dumps(payload).encode()
        self._send_head(200, len(data), None)
        self.wfile.flush()
        for i in range(len(data)):
            if stopping.wait(delay):
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()

    def abort(self) -> None:
        """Reset the connection without answering."""
        self.close_connection = True
        self.server.abort(self.connection)

    def _send_head(self, status: int, length: int, headers: Mapping[str, str] | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()


class PostHogSink:
    """A PostHog capture stand-in on 127.0.0.1, recording every event it accepts.

    Use it as a context manager (``with PostHogSink() as sink: ... sink.host``) or call :meth:`start` and
    :meth:`stop`. ``port=0`` picks a free port. Every property returns a snapshot, safe to read from any thread.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        events_path: str | Path | None = None,
        admin_port: int | None = None,
        mode: Mode = "ok",
        delay: float | None = None,
        status: int = DEFAULT_ERROR_STATUS,
        retry_after: float | None = None,
    ) -> None:
        """Configure the sink; nothing listens until :meth:`start`.

        ``events_path``: also append each event as a JSON line to this file. ``admin_port``: also serve the
        admin endpoints on their own listener (0 = any free port), which stays up while the capture port
        refuses connections. ``mode``, ``delay``, ``status``, ``retry_after``: as for :meth:`set_mode`.
        """
        self._requested_port = port
        self._events_path = Path(events_path) if events_path is not None else None
        self._admin_port = admin_port
        self._initial = (mode, delay, status, retry_after)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # mode changes, arrivals, stopping
        self._transition = threading.Lock()  # serialises listener open/close
        self._stopping = threading.Event()
        self._mode: Mode = "ok"
        self._delay = 0.0
        self._status = DEFAULT_ERROR_STATUS
        self._retry_after: float | None = None
        self._events: list[dict[str, Any]] = []
        self._requests: list[dict[str, Any]] = []
        self._attempts: dict[Mode, int] = dict.fromkeys(MODES, 0)
        self._file_lock = threading.Lock()
        self._capture: _CaptureServer | None = None
        self._admin: _CaptureServer | None = None
        self._placeholder: socket.socket | None = None
        self._port = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Bind and serve in daemon threads; returns ``self``."""
        self._capture = self._serve(self._requested_port)
        self._port = self._capture.server_address[1]
        if self._admin_port is not None:
            self._admin = self._serve(self._admin_port)
        mode, delay, status, retry_after = self._initial
        self.set_mode(mode, delay=delay, status=status, retry_after=retry_after)
        return self

    def stop(self) -> None:
        """Stop serving and release the port(s); held (``hang``, ``slow``) requests are dropped unanswered."""
        with self._changed:
            self._stopping.set()
            self._changed.notify_all()
        with self._transition:
            for server in (self._capture, self._admin):
                if server is not None:
                    server.shutdown()
                    server.server_close()
            self._capture = self._admin = None
            if self._placeholder is not None:
                self._placeholder.close()
                self._placeholder = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, port: int) -> _CaptureServer:
        server = _CaptureServer(("127.0.0.1", port), self)
        # A short poll interval keeps shutdown (and the switch to `refuse`) quick.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="posthog-standin", daemon=True
        )
        thread.start()
        return server

    # ------------------------------------------------------------------ addresses and state

    @property
    def port(self) -> int:
        """The capture port."""
        return self._port

    @property
    def host(self) -> str:
        """The URL to give the posthog client as ``host``: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def admin_url(self) -> str:
        """Where the admin endpoints are always reachable: the admin listener if any, else :attr:`host`."""
        return f"http://127.0.0.1:{self._admin.server_address[1]}" if self._admin is not None else self.host

    @property
    def mode(self) -> Mode:
        """The current mode."""
        return self._mode

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event accepted so far, in arrival order.

        Each is the event as sent (``event``, ``distinct_id``, ``properties``, ``timestamp``, ``uuid``, ...)
        plus ``api_key``, ``path``, ``headers``, ``received_at`` (epoch seconds the request arrived),
        ``request_seq`` (its index in :attr:`requests`, from 1) and the envelope's ``sent_at`` /
        ``created_at`` / ``historical_migration`` when present.
        """
        with self._lock:
            return list(self._events)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received (capture and unknown paths, not admin), with how it was answered.

        Keys: ``seq``, ``path``, ``mode`` (at arrival), ``received_at``, ``headers``, ``uuids``, ``answer``
        (HTTP status, ``"reset"`` or ``"dropped"``; None while held) and ``answered_at``.
        """
        with self._lock:
            return [dict(r) for r in self._requests]

    @property
    def attempts(self) -> dict[Mode, int]:
        """Capture requests received in each mode (by the mode at arrival; ``refuse`` is never reached)."""
        with self._lock:
            return dict(self._attempts)

    def state(self) -> dict[str, Any]:
        """Mode, its parameters and counters, as ``GET /_standin/state`` answers."""
        with self._lock:
            return {
                "mode": self._mode,
                "delay": self._delay,
                "status": self._status,
                "retry_after": self._retry_after,
                "attempts": dict(self._attempts),
                "events": len(self._events),
                "requests": len(self._requests),
                "host": self.host,
            }

    def events_named(self, name: str) -> list[dict[str, Any]]:
        """The events called ``name`` (e.g. ``"$ai_generation"``)."""
        return [e for e in self.events if e["event"] == name]

    # ------------------------------------------------------------------ control

    def set_mode(
        self,
        mode: Mode,
        *,
        delay: float | None = None,
        status: int = DEFAULT_ERROR_STATUS,
        retry_after: float | None = None,
    ) -> None:
        """Switch the failure mode; parameters not given go back to their defaults.

        ``delay``: seconds before the answer (``slow``) or between body bytes (``trickle``). ``status`` and
        ``retry_after``: the answer in ``error`` mode.
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        with self._transition:
            if self._capture is None:
                raise RuntimeError("the sink is not running")
            leaving_refuse = self._mode == "refuse" and mode != "refuse"
            if leaving_refuse:
                self._listen_again()  # before the switch: if the port was taken, we stay in `refuse`
            with self._changed:
                entering_refuse = mode == "refuse" and self._mode != "refuse"
                self._mode = mode
                self._delay = DEFAULT_DELAY.get(mode, 0.0) if delay is None else delay
                self._status = status
                self._retry_after = retry_after
                self._changed.notify_all()  # releases held `hang` requests
            if entering_refuse:
                self._stop_listening()

    def reset(self) -> None:
        """Forget every event, request and attempt, and go back to ``ok`` (the events file is kept)."""
        self.set_mode("ok")
        with self._changed:
            self._events.clear()
            self._requests.clear()
            self._attempts = dict.fromkeys(MODES, 0)

    def wait_for(self, count: int, timeout: float = 5.0, *, event: str | None = None) -> list[dict[str, Any]]:
        """Block until at least ``count`` events (named ``event``, if given) arrived; return them.

        Raises :class:`TimeoutError` after ``timeout`` seconds.
        """

        def matching() -> list[dict[str, Any]]:
            return [e for e in self._events if event is None or e["event"] == event]

        return self._wait(matching, count, timeout, f"{count} event(s)" + (f" named {event!r}" if event else ""))

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` requests arrived (in any mode); return them."""
        return self._wait(lambda: [dict(r) for r in self._requests], count, timeout, f"{count} request(s)")

    def _wait(
        self, select: Callable[[], list[dict[str, Any]]], count: int, timeout: float, what: str
    ) -> list[dict[str, Any]]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(select()) >= count, timeout):
                raise TimeoutError(f"PostHog stand-in: {what} not received in {timeout} s; got {len(select())}")
            return select()

    def _stop_listening(self) -> None:
        assert self._capture is not None
        self._capture.shutdown()
        self._capture.server_close()
        # Hold the port without listening: connecting to it is refused, and no one else can take it.
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            placeholder.bind(("127.0.0.1", self._port))
        except OSError:
            placeholder.close()
            log.warning("posthog stand-in: could not hold port %d while refusing", self._port)
        else:
            self._placeholder = placeholder

    def _listen_again(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        self._capture = self._serve(self._port)

    # ------------------------------------------------------------------ serving

    def _serve_capture(self, handler: _Handler, path: str, query: Mapping[str, list[str]], body: bytes) -> None:
        route = path.rstrip("/")
        known = route in BATCH_PATHS or route == V1_PATH or route in SINGLE_EVENT_PATHS
        parsed: _Parsed | _BadRequest
        if handler.command != "POST":
            parsed = _BadRequest(405, "capture endpoints take POST")
        else:
            try:
                parsed = _parse_capture(route, handler.headers, query, body)
            except _BadRequest as exc:
                parsed = exc
        with self._changed:
            mode = self._mode
            if known:
                self._attempts[mode] += 1
            record: dict[str, Any] = {
                "seq": len(self._requests) + 1,
                "path": path,
                "mode": mode,
                "received_at": time.time(),
                "headers": dict(handler.headers.items()),
                "uuids": [] if isinstance(parsed, _BadRequest) else [e.get("uuid") for e in parsed[0]],
                "answer": None,
                "answered_at": None,
            }
            self._requests.append(record)
            self._changed.notify_all()
        if not known:
            self._answer(record, lambda: handler.send_json(404, {"detail": f"no capture endpoint at {path}"}), 404)
            return
        if mode == "hang":
            with self._changed:
                self._changed.wait_for(lambda: self._stopping.is_set() or self._mode != "hang")
                mode = self._mode
            if self._stopping.is_set():
                self._answer(record, lambda: None, "dropped")  # closed with no answer
                return
        self._respond(handler, record, parsed, mode)

    def _respond(
        self,
        handler: _Handler,
        record: dict[str, Any],
        parsed: _Parsed | _BadRequest,
        mode: Mode,
    ) -> None:
        with self._lock:
            delay, status, retry_after = self._delay, self._status, self._retry_after
        if mode in ("refuse", "reset"):
            # `refuse` here: the request was accepted just before the listener closed; fail it the same way.
            self._answer(record, handler.abort, "reset")
            return
        if mode == "error":
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
            detail = {"type": "server_error", "code": "standin_error_mode", "detail": f"stand-in error {status}"}
            self._answer(record, lambda: handler.send_json(status, detail, headers), status)
            return
        if mode == "slow" and self._stopping.wait(delay):
            self._answer(record, lambda: None, "dropped")
            return
        if isinstance(parsed, _BadRequest):
            body = {"type": "validation_error", "code": "invalid_payload", "detail": parsed.detail}
            self._answer(record, lambda: handler.send_json(parsed.status, body), parsed.status)
            return
        events, envelope = parsed
        self._record(record, events, envelope)
        route = record["path"].rstrip("/")
        payload = {"results": {e.get("uuid"): {"result": "ok"} for e in events}} if route == V1_PATH else {"status": 1}
        if mode == "trickle":
            self._answer(record, lambda: handler.trickle_json(payload, delay, self._stopping), 200)
        else:
            self._answer(record, lambda: handler.send_json(200, payload), 200)

    def _answer(self, record: dict[str, Any], send: Callable[[], None], answer: int | str) -> None:
        with self._lock:
            record["answer"], record["answered_at"] = answer, time.time()
        with contextlib.suppress(OSError):  # the client may have given up already
            send()

    def _record(self, record: dict[str, Any], events: list[dict[str, Any]], envelope: dict[str, Any]) -> None:
        meta = {
            "path": record["path"],
            "headers": record["headers"],
            "received_at": record["received_at"],
            "request_seq": record["seq"],
            **{k: envelope[k] for k in _ENVELOPE_KEYS if k in envelope},
        }
        rows = [{**event, **meta} for event in events]
        if self._events_path is not None:
            lines = "".join(json.dumps(row, default=str) + "\n" for row in rows)
            with self._file_lock, self._events_path.open("a", encoding="utf-8") as f:
                f.write(lines)
        with self._changed:
            self._events.extend(rows)
            self._changed.notify_all()

    def _serve_admin(self, handler: _Handler, action: str, query: Mapping[str, list[str]], body: bytes) -> None:
        try:
            if handler.command == "GET" and action == "state":
                handler.send_json(200, self.state())
            elif handler.command == "GET" and action == "events":
                name = query.get("event", [None])[0]
                handler.send_json(200, {"events": self.events_named(name) if name else self.events})
            elif handler.command == "GET" and action == "requests":
                handler.send_json(200, {"requests": self.requests})
            elif handler.command == "POST" and action == "reset":
                self.reset()
                handler.send_json(200, self.state())
            elif handler.command == "POST" and action == "mode":
                options = json.loads(body or b"{}")
                self.set_mode(
                    cast(Mode, options.get("mode")),
                    delay=options.get("delay"),
                    status=int(options.get("status", DEFAULT_ERROR_STATUS)),
                    retry_after=options.get("retry_after"),
                )
                handler.send_json(200, self.state())
            else:
                handler.send_json(404, {"detail": f"no admin endpoint {handler.command} {ADMIN_PREFIX}{action}"})
        except (ValueError, TypeError, AttributeError) as exc:
            handler.send_json(400, {"detail": str(exc)})
        except OSError as exc:  # e.g. the port was taken while refusing
            handler.send_json(409, {"detail": str(exc)})


def main(argv: list[str] | None = None) -> int:
    """Run a sink until SIGTERM or SIGINT; print its addresses as one JSON line first."""
    parser = argparse.ArgumentParser(prog="python -m loopback.posthog", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="capture port (default: any free port)")
    parser.add_argument("--events-path", type=Path, help="append each event to this file as a JSON line")
    parser.add_argument(
        "--admin-port", type=int, default=0, help="admin listener port, up in every mode (default: any free port)"
    )
    parser.add_argument("--mode", choices=MODES, default="ok")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with PostHogSink(port=args.port, events_path=args.events_path, admin_port=args.admin_port, mode=args.mode) as sink:
        addresses = {"host": sink.host, "admin": sink.admin_url, "events_path": args.events_path}
        print(json.dumps(addresses, default=str), flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
