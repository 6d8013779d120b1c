"""The loopback Lambda Runtime + Extensions API, driven by the real runtime client (``awslambdaric``) running a tiny
throwaway handler -- not project code -- written into ``tmp_path``."""

from __future__ import annotations

import itertools
import json
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from loopback.lambda_api import EXTENSION_PREFIX, RUNTIME_PREFIX, LambdaApiStandIn
from loopback.lambda_runtime import LambdaRuntime

# What the extension does after each INVOKE before calling next again: the "delivery after the response".
EXTENSION_WORK_S = 0.3

HANDLER = textwrap.dedent(
    '''
    """Throwaway function for the stand-in's tests; behaviour chosen by environment variables and the event."""
    import json
    import os
    import signal
    import threading
    import time
    import urllib.error
    import urllib.request

    EXTENSIONS = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2020-01-01/extension"


    def call(method, path, body=None, headers=None):
        request = urllib.request.Request(EXTENSIONS + path, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, dict(response.headers), json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.load(error)


    def register(name, events):
        return call("POST", "/register", json.dumps({"events": events}).encode(), {"Lambda-Extension-Name": name})


    def extension_loop(identifier):
        while True:
            _, _, event = call("GET", "/event/next", headers={"Lambda-Extension-Identifier": identifier})
            with open(os.environ["EXTENSION_LOG"], "a") as log:
                log.write(json.dumps(event) + "\\n")
            time.sleep(float(os.environ["EXTENSION_WORK_S"]))


    # An internal extension: a thread of the runtime process, registered during init (at import).
    if os.environ.get("WITH_EXTENSION"):
        status, headers, _ = register("test-extension", ["INVOKE"])
        assert status == 200, status
        identifier = headers["Lambda-Extension-Identifier"]
        threading.Thread(target=extension_loop, args=(identifier,), daemon=True).start()

    if os.environ.get("EXIT_ON_SIGTERM"):
        def on_sigterm(signum, frame):
            print("SIGTERM received", flush=True)
            os._exit(0)  # sys.exit would wait for awslambdaric's polling thread, blocked in next for good

        signal.signal(signal.SIGTERM, on_sigterm)


    def handler(event, context):
        if "raise" in event:
            raise ValueError(event["raise"])
        if "sleep" in event:
            time.sleep(event["sleep"])
        if "register" in event:
            status, _, body = register(event["register"], ["INVOKE"])
            return {"status": status, "body": body}
        return {
            "event": event,
            "request_id": context.aws_request_id,
            "function_arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "client_custom": context.client_context.custom if context.client_context else None,
            "cognito_identity_id": context.identity.cognito_identity_id,
            "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        }
    '''
)


class Environment:
    """The stand-in and a runtime process serving it."""

    def __init__(self, api: LambdaApiStandIn, runtime: LambdaRuntime, extension_log: Path) -> None:
        self.api, self.runtime, self.extension_log = api, runtime, extension_log

    def extension_events(self) -> list[dict[str, Any]]:
        if not self.extension_log.exists():
            return []
        return [json.loads(line) for line in self.extension_log.read_text().splitlines()]


MakeEnvironment = Callable[..., Environment]


@pytest.fixture
def make_environment(tmp_path: Path) -> Iterator[MakeEnvironment]:
    (tmp_path / "app.py").write_text(HANDLER)
    with ExitStack() as stack:

        def make(
            *,
            extension: bool = False,
            before_runtime: Callable[[LambdaApiStandIn], None] | None = None,
            env: dict[str, str] | None = None,
            **options: Any,
        ) -> Environment:
            api = stack.enter_context(LambdaApiStandIn(handler="app.handler", **options))
            if before_runtime is not None:
                before_runtime(api)
            log = tmp_path / "extension-events.jsonl"
            variables = {"EXTENSION_LOG": str(log), "EXTENSION_WORK_S": str(EXTENSION_WORK_S), **(env or {})}
            if extension:
                variables["WITH_EXTENSION"] = "1"
            runtime = stack.enter_context(LambdaRuntime(api, tmp_path, env=variables))
            runtime.wait_ready()
            return Environment(api, runtime, log)

        yield make


def http(api: LambdaApiStandIn, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any, Any]:
    """One request to the stand-in: (status, headers, parsed body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://{api.address}{path}", data=data, method=method)
    for key, value in headers.items():
        request.add_header(key.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


# -- the Runtime API under awslambdaric -------------------------------------------------------------------------


def test_echo_round_trip_with_the_documented_headers(make_environment: MakeEnvironment) -> None:
    env = make_environment()
    invocation = env.api.invoke(
        {"hello": "world"},
        client_context={"custom": {"tenant": "t-1"}},
        cognito_identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    ).wait_complete()

    answer = invocation.response
    assert answer["event"] == {"hello": "world"}
    assert answer["request_id"] == invocation.request_id
    assert answer["function_arn"] == env.api.function_arn
    assert answer["client_custom"] == {"tenant": "t-1"}
    assert answer["cognito_identity_id"] == "id-1"
    assert answer["trace_id"] == invocation.trace_id
    assert 29_000 < answer["remaining_ms"] <= 30_000  # Lambda-Runtime-Deadline-Ms: the 30 s default timeout
    # What awslambdaric 4.2.2 does on the wire: next, then a JSON response to the request id.
    runtime_calls = [(r.method, r.path) for r in env.api.requests if r.path.startswith(RUNTIME_PREFIX)]
    assert runtime_calls[:3] == [
        ("GET", f"{RUNTIME_PREFIX}/invocation/next"),
        ("POST", f"{RUNTIME_PREFIX}/invocation/{invocation.request_id}/response"),
        ("GET", f"{RUNTIME_PREFIX}/invocation/next"),
    ]
    response_post = next(r for r in env.api.requests if r.path.endswith("/response"))
    assert response_post.headers["content-type"] == "application/json"
    assert response_post.headers["user-agent"].startswith("aws-lambda-python/")
    assert env.api.extensions == []
    assert env.api.refusals == []


def test_a_handler_error_comes_back_through_the_error_route(make_environment: MakeEnvironment) -> None:
    env = make_environment()
    failed = env.api.invoke({"raise": "boom"})

    assert not failed.ok
    assert failed.response_body is None
    assert failed.error is not None
    assert failed.error["errorType"] == "ValueError"
    assert failed.error["errorMessage"] == "boom"
    assert failed.error["requestId"] == failed.request_id
    error_post = next(r for r in env.api.requests if r.path.endswith("/error"))
    assert error_post.path == f"{RUNTIME_PREFIX}/invocation/{failed.request_id}/error"
    # awslambdaric sends the X-Ray cause header, but no Lambda-Runtime-Function-Error-Type for invocation errors.
    assert "lambda-runtime-function-xray-error-cause" in error_post.headers
    assert failed.error_type is None
    # The environment carries on.
    assert env.api.invoke({"after": "error"}).response["event"] == {"after": "error"}


def test_consecutive_invocations_each_wait_for_the_previous_one(make_environment: MakeEnvironment) -> None:
    env = make_environment()
    invocations = [env.api.submit({"n": n}) for n in range(5)]
    for invocation in invocations:
        invocation.wait_complete()

    assert [i.response["event"]["n"] for i in invocations] == list(range(5))
    assert len({i.request_id for i in invocations}) == 5
    for previous, following in itertools.pairwise(invocations):
        assert previous.completed_at is not None
        assert following.handed_at is not None
        assert previous.completed_at <= following.handed_at


def test_an_init_error_is_reported_and_answers_the_invocation(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import module_that_does_not_exist\n")
    with LambdaApiStandIn(handler="broken.handler") as api, LambdaRuntime(api, tmp_path) as runtime:
        with pytest.raises(RuntimeError, match=r"Runtime\.ImportModuleError"):
            runtime.wait_ready()
        invocation = api.invoke({})

    assert invocation.error_type == "Runtime.ImportModuleError"
    assert invocation.error is not None
    assert "module_that_does_not_exist" in invocation.error["errorMessage"]
    init_post = next(r for r in api.requests if r.path == f"{RUNTIME_PREFIX}/init/error")
    assert init_post.headers["lambda-runtime-function-error-type"] == "Runtime.ImportModuleError"


# -- the Extensions API: an internal extension under awslambdaric ----------------------------------------------


def test_the_caller_gets_the_response_before_the_extension_is_done(make_environment: MakeEnvironment) -> None:
    env = make_environment(extension=True)
    invocation = env.api.invoke({"x": 1})
    returned_at = time.monotonic()
    invocation.wait_complete()

    [extension] = env.api.extensions
    assert (extension.name, extension.events, extension.internal) == ("test-extension", ("INVOKE",), True)
    assert invocation.responded_at is not None
    assert invocation.completed_at is not None
    done_at = invocation.extension_next_at["test-extension"]
    # The caller had its answer while the extension was still working...
    assert invocation.responded_at < returned_at < done_at
    assert done_at - invocation.responded_at >= EXTENSION_WORK_S * 0.8
    # ...and the invocation completed when the extension called next again.
    assert invocation.completed_at >= done_at


def test_the_next_invocation_is_held_until_the_extension_calls_next(make_environment: MakeEnvironment) -> None:
    env = make_environment(extension=True)
    first, second = env.api.submit({"n": 1}), env.api.submit({"n": 2})
    second.wait_complete()

    assert first.runtime_next_at is not None
    assert second.handed_at is not None
    extension_done = first.extension_next_at["test-extension"]
    # The runtime asked for more right after responding, but the environment stayed with the extension.
    assert first.runtime_next_at < extension_done <= second.handed_at
    assert second.handed_at - first.runtime_next_at >= EXTENSION_WORK_S * 0.8


def test_every_invocation_reaches_the_extension_as_documented(make_environment: MakeEnvironment) -> None:
    env = make_environment(extension=True)
    invocations = [env.api.invoke({"n": n}) for n in range(3)]
    invocations[-1].wait_complete()

    events = env.extension_events()
    assert [e["requestId"] for e in events] == [i.request_id for i in invocations]
    for event, invocation in zip(events, invocations, strict=True):
        assert event == {
            "eventType": "INVOKE",
            "deadlineMs": invocation.deadline_ms,
            "requestId": invocation.request_id,
            "invokedFunctionArn": env.api.function_arn,
            "tracing": {"type": "X-Amzn-Trace-Id", "value": invocation.trace_id},
        }
        assert invocation.extension_invoke_at["test-extension"] <= invocation.extension_next_at["test-extension"]
    assert len(env.api.extensions[0].next_calls) == 4  # init, then once after each invocation


def test_registration_after_init_is_refused(make_environment: MakeEnvironment) -> None:
    env = make_environment()
    answer = env.api.invoke({"register": "late-extension"}).response

    assert answer["status"] == 403
    assert answer["body"]["errorType"] == "Extension.RegistrationClosed"
    assert env.api.extensions == []
    assert [r.error_type for r in env.api.refusals] == ["Extension.RegistrationClosed"]


def test_the_extension_counts_against_the_function_timeout(make_environment: MakeEnvironment) -> None:
    env = make_environment(extension=True, timeout_s=0.15)
    invocation = env.api.invoke({"x": 1})
    assert invocation.ok  # the caller got its response in time...
    env.api.wait_idle()

    report = env.api.shutdown_report
    assert report is not None
    assert report.reason == "TIMEOUT"  # ...but the extension outlived the deadline: Lambda resets the environment
    assert invocation.timed_out
    assert invocation.completed_at is None


def test_a_handler_outliving_its_deadline_gets_sandbox_timedout(make_environment: MakeEnvironment) -> None:
    env = make_environment(timeout_s=0.3)
    invocation = env.api.invoke({"sleep": 5})

    assert invocation.error is not None
    assert invocation.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.30 seconds" in invocation.error["errorMessage"]
    report = env.api.shutdown(idle_timeout_s=0)
    assert report.reason == "TIMEOUT"
    assert [name for name, _ in report.signals] == ["SIGKILL"]  # no extension: no graceful shutdown
    with pytest.raises(RuntimeError, match="shut down"):
        env.api.submit({})


# -- registration rules and shutdown ---------------------------------------------------------------------------


def test_internal_extensions_may_not_register_for_shutdown() -> None:
    with LambdaApiStandIn(external_extensions=["external-one"]) as api:
        path = f"{EXTENSION_PREFIX}/register"
        refused = http(api, "POST", path, {"events": ["INVOKE", "SHUTDOWN"]}, Lambda_Extension_Name="internal-one")
        accepted = http(api, "POST", path, {"events": ["INVOKE", "SHUTDOWN"]}, Lambda_Extension_Name="external-one")
        internal = http(api, "POST", path, {"events": ["INVOKE"]}, Lambda_Extension_Name="internal-two")
        duplicate = http(api, "POST", path, {"events": []}, Lambda_Extension_Name="internal-two")

    status, _, body = refused
    assert status == 403
    assert body["errorType"] == "Extension.InvalidEventType"
    assert "ShutdownEventNotSupportedForInternalExtension" in body["errorMessage"]
    status, headers, body = accepted
    assert status == 200
    assert headers["Lambda-Extension-Identifier"]
    assert body == {"functionName": api.function_name, "functionVersion": "$LATEST", "handler": api.handler}
    assert internal[0] == 200
    assert (duplicate[0], duplicate[2]["errorType"]) == (403, "Extension.InvalidExtensionState")
    assert [(e.name, e.internal, e.events) for e in api.extensions] == [
        ("external-one", False, ("INVOKE", "SHUTDOWN")),
        ("internal-two", True, ("INVOKE",)),
    ]


def test_shutdown_sends_sigterm_then_shutdown_to_external_extensions(make_environment: MakeEnvironment) -> None:
    received: list[dict[str, Any]] = []

    def external_extension(api: LambdaApiStandIn) -> None:
        # An external extension (its own process in Lambda; a thread here), registered before the runtime starts.
        status, headers, _ = http(
            api, "POST", f"{EXTENSION_PREFIX}/register", {"events": ["SHUTDOWN"]}, Lambda_Extension_Name="watcher"
        )
        assert status == 200
        identifier = headers["Lambda-Extension-Identifier"]

        def loop() -> None:
            while True:
                _, _, event = http(api, "GET", f"{EXTENSION_PREFIX}/event/next", Lambda_Extension_Identifier=identifier)
                received.append(event)
                if event.get("eventType") == "SHUTDOWN":
                    return

        threading.Thread(target=loop, daemon=True).start()

    env = make_environment(
        extension=True,
        external_extensions=["watcher"],
        before_runtime=external_extension,
        env={"EXIT_ON_SIGTERM": "1"},
    )
    assert env.api.invoke({"x": 1}).ok
    report = env.api.shutdown()

    assert report.reason == "SPINDOWN"
    assert [name for name, _ in report.signals] == ["SIGTERM"]  # it exited within its grace period
    assert report.runtime_returncode == 0
    assert "SIGTERM received" in env.runtime.stdout
    assert list(report.delivered) == ["watcher"]
    assert report.delivered["watcher"] > report.signals[0][1]  # the runtime first, then the extensions
    deadline = time.monotonic() + 2
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert received == [{"eventType": "SHUTDOWN", "shutdownReason": "SPINDOWN", "deadlineMs": report.deadline_ms}]
