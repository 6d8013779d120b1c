"""The PostHog stand-in, driven by the real posthog client: what it records, and how each failure mode looks
to ``posthog.request.batch_post`` and to the ``Posthog`` client (timings are asserted loosely)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from posthog import Posthog
from posthog.request import APIError, _is_connection_refused, batch_post

from loopback.posthog import PostHogSink

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sink() -> Iterator[PostHogSink]:
    with PostHogSink() as s:
        yield s


@pytest.fixture
def make_client(sink: PostHogSink) -> Iterator[Any]:
    """Build real ``Posthog`` clients aimed at the sink; they are shut down against a healthy sink after the test."""
    clients: list[Posthog] = []

    def make(**options: Any) -> Posthog:
        client = Posthog(project_api_key="phc_test", host=sink.host, **options)
        clients.append(client)
        return client

    yield make
    if sink._capture is not None:  # still running: let any held or retrying upload finish quickly
        sink.set_mode("ok")
    for client in clients:
        client.shutdown()


def _event(n: int) -> dict[str, Any]:
    return {
        "event": "$ai_generation",
        "distinct_id": f"user-{n}",
        "properties": {"$ai_model": "anthropic.claude-3-haiku", "n": n},
        "timestamp": "2025-01-01T00:00:00+00:00",
        "uuid": f"00000000-0000-4000-8000-00000000000{n}",
    }


def _admin(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _timed(call: Any) -> tuple[float, Any]:
    started = time.monotonic()
    try:
        result = call()
    except Exception as exc:
        result = exc
    return time.monotonic() - started, result


# ---------------------------------------------------------------- what the real client sends


@pytest.mark.parametrize("gzip", [False, True])
def test_client_capture_and_flush_are_recorded(sink: PostHogSink, make_client: Any, gzip: bool) -> None:
    client = make_client(gzip=gzip)
    uuids = [
        client.capture(
            "$ai_generation",
            distinct_id=f"user-{n}",
            properties={"$ai_model": "m", "n": n},
            uuid=f"00000000-0000-4000-8000-00000000000{n}",
        )
        for n in range(3)
    ]
    client.capture("other", distinct_id="user-9")
    client.flush(timeout_seconds=2)

    generations = sink.events_named("$ai_generation")
    assert [e["uuid"] for e in generations] == uuids == [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]
    assert [e["distinct_id"] for e in generations] == ["user-0", "user-1", "user-2"]
    assert [e["properties"]["n"] for e in generations] == [0, 1, 2]
    assert all(e["properties"]["$ai_model"] == "m" for e in generations)
    assert [e["distinct_id"] for e in sink.events_named("other")] == ["user-9"]
    first = sink.events[0]
    assert first["api_key"] == "phc_test"
    assert first["path"] == "/batch/"
    assert first["historical_migration"] is False
    assert first["timestamp"]
    assert first["sent_at"]
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["User-Agent"].startswith("posthog-python/")
    assert ("Content-Encoding" in first["headers"]) is gzip
    assert len({e["request_seq"] for e in sink.events}) == 1  # one batch
    assert sink.attempts["ok"] == 1


@pytest.mark.parametrize("gzip", [False, True])
def test_batch_post_delivers_a_batch(sink: PostHogSink, gzip: bool) -> None:
    response = batch_post("phc_test", host=sink.host, gzip=gzip, timeout=1, batch=[_event(1), _event(2)])

    assert response.status_code == 200
    assert response.json() == {"status": 1}
    assert [(e["uuid"], e["distinct_id"], e["properties"]) for e in sink.wait_for(2, timeout=1)] == [
        (_event(n)["uuid"], f"user-{n}", _event(n)["properties"]) for n in (1, 2)
    ]
    assert {e["api_key"] for e in sink.events} == {"phc_test"}


def test_ai_lane_and_capture_v1_are_accepted(sink: PostHogSink, make_client: Any) -> None:
    ai_client, v1_client = make_client(), make_client(capture_mode="v1", capture_compression="deflate")
    ai_client.capture_ai("$ai_generation", distinct_id="u-ai", properties={"x": 1})
    v1_client.capture("v1-event", distinct_id="u-v1")
    ai_client.flush(timeout_seconds=2)
    v1_client.flush(timeout_seconds=2)

    (ai,) = sink.events_named("$ai_generation")
    assert (ai["path"], ai["distinct_id"], ai["api_key"]) == ("/i/v0/ai/batch/", "u-ai", "phc_test")
    (v1,) = sink.events_named("v1-event")
    assert (v1["path"], v1["distinct_id"], v1["api_key"]) == ("/i/v1/analytics/events", "u-v1", "phc_test")
    assert v1["headers"]["Content-Encoding"] == "deflate"


def test_requests_without_key_or_with_bad_bodies_are_rejected_like_posthog(sink: PostHogSink) -> None:
    with pytest.raises(APIError) as no_key:
        batch_post("", host=sink.host, timeout=1, batch=[_event(1)])
    assert no_key.value.status == 401
    bad = requests.post(sink.host + "/batch/", data=b"{not json", timeout=1)
    assert bad.status_code == 400
    assert requests.post(sink.host + "/nowhere/", json={}, timeout=1).status_code == 404
    assert sink.events == []


# ---------------------------------------------------------------- failure modes, seen by batch_post


def test_error_mode_raises_api_error_and_counts_attempts(sink: PostHogSink) -> None:
    sink.set_mode("error")
    for _ in range(2):
        with pytest.raises(APIError) as exc_info:
            batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)])
        assert exc_info.value.status == 500
    sink.set_mode("error", status=429, retry_after=3)
    with pytest.raises(APIError) as limited:
        batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)])

    assert (limited.value.status, limited.value.retry_after) == (429, 3.0)
    assert sink.attempts["error"] == 3
    assert [r["answer"] for r in sink.requests] == [500, 500, 429]
    assert [r["uuids"] for r in sink.requests] == [[_event(1)["uuid"]]] * 3
    assert sink.events == []


def test_refuse_mode_refuses_connections_then_serves_again_on_the_same_port(sink: PostHogSink) -> None:
    sink.set_mode("refuse")
    elapsed, error = _timed(lambda: batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)]))

    # A connection error wrapping ECONNREFUSED, not an HTTP status; and instantly, not after a timeout.
    assert isinstance(error, requests.ConnectionError)
    assert _is_connection_refused(error)
    assert elapsed < 0.5
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sink.port), timeout=1).close()
    assert sink.attempts["refuse"] == 0  # refused by the kernel: nothing reaches the server

    sink.set_mode("ok")
    assert batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(2)]).status_code == 200
    assert [e["uuid"] for e in sink.events] == [_event(2)["uuid"]]


def test_reset_mode_resets_the_connection_after_reading_the_request(sink: PostHogSink) -> None:
    sink.set_mode("reset")
    with pytest.raises(requests.ConnectionError) as exc_info:
        batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)])

    assert "ConnectionResetError" in repr(exc_info.value)
    assert sink.attempts["reset"] == 1
    assert sink.requests[0]["answer"] == "reset"
    assert sink.events == []


def test_hang_mode_times_out_the_client_and_answers_once_the_mode_changes(sink: PostHogSink) -> None:
    sink.set_mode("hang")
    elapsed, error = _timed(lambda: batch_post("phc_test", host=sink.host, timeout=0.5, batch=[_event(1)]))

    assert isinstance(error, requests.Timeout)
    assert 0.45 <= elapsed < 1.0
    assert sink.attempts["hang"] == 1
    assert sink.requests[0]["answer"] is None  # still held
    assert sink.events == []

    sink.set_mode("ok")  # the held request is answered now: the server "got" a batch its sender gave up on
    assert [e["uuid"] for e in sink.wait_for(1, timeout=1)] == [_event(1)["uuid"]]


def test_hang_mode_does_not_block_stopping() -> None:
    sink = PostHogSink().start()
    sink.set_mode("hang")
    outcome: list[BaseException] = []

    def post() -> None:
        try:
            batch_post("phc_test", host=sink.host, timeout=10, batch=[_event(1)])
        except BaseException as exc:
            outcome.append(exc)

    poster = threading.Thread(target=post)
    poster.start()
    sink.wait_for_requests(1, timeout=1)
    elapsed, _ = _timed(sink.stop)
    poster.join(timeout=2)

    assert elapsed < 0.5
    assert not poster.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)  # closed without an answer
    assert sink.requests[0]["answer"] == "dropped"


def test_slow_mode_answers_after_the_delay(sink: PostHogSink) -> None:
    sink.set_mode("slow", delay=0.3)
    elapsed, response = _timed(lambda: batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)]))
    assert response.status_code == 200
    assert 0.3 <= elapsed < 0.8
    assert len(sink.events) == 1

    elapsed, error = _timed(lambda: batch_post("phc_test", host=sink.host, timeout=0.1, batch=[_event(2)]))
    assert isinstance(error, requests.Timeout)
    assert elapsed < 0.3
    assert sink.attempts["slow"] == 2


def test_trickle_mode_outlasts_the_requests_timeout(sink: PostHogSink) -> None:
    # `timeout` bounds each socket read, not the call: a body dripping a byte per 0.1 s never trips 0.3 s.
    sink.set_mode("trickle", delay=0.1)
    elapsed, response = _timed(lambda: batch_post("phc_test", host=sink.host, timeout=0.3, batch=[_event(1)]))

    assert response.status_code == 200
    assert elapsed >= 1.2  # len('{"status": 1}') * 0.1 s, four times the timeout


# ---------------------------------------------------------------- failure modes, seen by the Posthog client


class _Errors:
    def __init__(self) -> None:
        self.calls: list[tuple[Exception, list[dict[str, Any]]]] = []
        self.called = threading.Event()

    def __call__(self, error: Exception, batch: list[dict[str, Any]]) -> None:
        self.calls.append((error, batch))
        self.called.set()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("error", APIError), ("refuse", requests.ConnectionError), ("reset", requests.ConnectionError)],
)
def test_client_reports_a_failed_batch_to_on_error(
    sink: PostHogSink, make_client: Any, mode: str, expected: type[Exception]
) -> None:
    on_error = _Errors()
    client = make_client(on_error=on_error, max_retries=0)
    sink.set_mode(mode)  # type: ignore[arg-type]
    uuid = client.capture("$ai_generation", distinct_id="u1")
    elapsed, _ = _timed(lambda: client.flush(timeout_seconds=2))

    assert elapsed < 0.5  # one attempt, no backoff
    ((error, batch),) = on_error.calls
    assert isinstance(error, expected)
    assert [m["uuid"] for m in batch] == [uuid]
    assert sink.events == []


def test_client_flush_returns_at_its_timeout_while_retries_go_on(sink: PostHogSink, make_client: Any) -> None:
    on_error = _Errors()
    client = make_client(on_error=on_error, max_retries=1)
    sink.set_mode("error")
    client.capture("$ai_generation", distinct_id="u1")
    elapsed, _ = _timed(lambda: client.flush(timeout_seconds=0.3))

    assert 0.3 <= elapsed < 0.6
    assert not on_error.calls  # flush gave up; the consumer is sleeping 1 s before its retry
    assert on_error.called.wait(timeout=1.5)  # the retry failed too, after flush had returned
    assert sink.attempts["error"] == 2


def test_client_hang_is_bounded_by_timeout_or_by_flush(sink: PostHogSink, make_client: Any) -> None:
    sink.set_mode("hang")
    on_error = _Errors()
    bounded = make_client(on_error=on_error, max_retries=0, timeout=0.3)
    bounded.capture("$ai_generation", distinct_id="u1")
    elapsed, _ = _timed(lambda: bounded.flush(timeout_seconds=2))
    assert 0.3 <= elapsed < 0.7
    assert isinstance(on_error.calls[0][0], requests.Timeout)

    patient = make_client(on_error=on_error, max_retries=0)  # timeout 15 s
    patient.capture("$ai_generation", distinct_id="u2")
    elapsed, _ = _timed(lambda: patient.flush(timeout_seconds=0.3))
    assert 0.3 <= elapsed < 0.6
    assert len(on_error.calls) == 1  # the request is still held


def test_client_sync_mode_sends_once_and_returns_none_on_failure(sink: PostHogSink, make_client: Any) -> None:
    on_error = _Errors()
    client = make_client(on_error=on_error, sync_mode=True, timeout=0.3)
    assert client.capture("$ai_generation", distinct_id="u0") is not None
    sink.set_mode("error")
    elapsed, uuid = _timed(lambda: client.capture("$ai_generation", distinct_id="u1"))

    assert elapsed < 0.3  # one attempt, no retry and no backoff in sync mode
    assert uuid is None  # the failure is logged and swallowed: capture returns None instead of the uuid
    assert on_error.calls == []  # on_error is only called by the background consumers
    assert (sink.attempts["ok"], sink.attempts["error"]) == (1, 1)


# ---------------------------------------------------------------- admin endpoint, events file, CLI


def test_admin_endpoint_switches_modes_and_reports_state(sink: PostHogSink) -> None:
    status, state = _admin(sink.host + "/_standin/mode", "POST", {"mode": "error", "status": 503})
    assert (status, state["mode"], state["status"]) == (200, "error", 503)
    with pytest.raises(APIError) as exc_info:
        batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)])
    assert exc_info.value.status == 503

    assert _admin(sink.host + "/_standin/mode", "POST", {"mode": "sideways"})[0] == 400
    _admin(sink.host + "/_standin/mode", "POST", {"mode": "ok"})
    batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(2)])
    assert _admin(sink.host + "/_standin/state")[1]["attempts"] == {
        **dict.fromkeys(sink.attempts, 0),
        "error": 1,
        "ok": 1,
    }
    events = _admin(sink.host + "/_standin/events?event=$ai_generation")[1]["events"]
    assert [e["uuid"] for e in events] == [_event(2)["uuid"]]

    _admin(sink.host + "/_standin/reset", "POST", {})
    assert (sink.events, sink.requests, sum(sink.attempts.values())) == ([], [], 0)


def test_admin_listener_stays_up_while_refusing() -> None:
    with PostHogSink(admin_port=0) as sink:
        assert sink.admin_url != sink.host
        _admin(sink.admin_url + "/_standin/mode", "POST", {"mode": "refuse"})
        with pytest.raises(requests.ConnectionError):
            batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)])
        _admin(sink.admin_url + "/_standin/mode", "POST", {"mode": "ok"})
        assert batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1)]).status_code == 200


def test_events_are_appended_to_the_events_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with PostHogSink(events_path=path) as sink:
        batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(1), _event(2)])
        sink.reset()
        batch_post("phc_test", host=sink.host, timeout=1, batch=[_event(3)])

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["uuid"], r["api_key"]) for r in rows] == [(_event(n)["uuid"], "phc_test") for n in (1, 2, 3)]


def test_wait_for_times_out(sink: PostHogSink) -> None:
    with pytest.raises(TimeoutError, match="1 event"):
        sink.wait_for(1, timeout=0.1)


def test_standalone_process_serves_until_terminated(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "loopback.posthog", "--port", "0", "--events-path", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        addresses = json.loads(process.stdout.readline())
        batch_post("phc_test", host=addresses["host"], timeout=1, batch=[_event(1)])
        _admin(addresses["admin"] + "/_standin/mode", "POST", {"mode": "refuse"})
        with pytest.raises(requests.ConnectionError):
            batch_post("phc_test", host=addresses["host"], timeout=1, batch=[_event(2)])
        assert _admin(addresses["admin"] + "/_standin/state")[1]["events"] == 1
    finally:
        process.terminate()
        assert process.wait(timeout=2) == 0
    assert [json.loads(line)["uuid"] for line in path.read_text().splitlines()] == [_event(1)["uuid"]]
