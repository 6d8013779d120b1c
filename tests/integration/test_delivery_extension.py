"""Delivery after the response: a real handler under the real runtime client (awslambdaric) against the loopback
Lambda service, with the layer's internal extension delivering to the PostHog sink."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from loopback.bedrock import BedrockStandIn
from loopback.lambda_service import Invocation, LambdaService, RuntimeProcess
from loopback.posthog import PostHogSink
from loopback.runner import lambda_environment, loopback_environment, read_functions

ROOT = Path(__file__).resolve().parents[2]
SPEC = read_functions()["parse_cv_text"]
EVENT = json.loads((ROOT / "events" / "parse_cv_text.json").read_text())


class Environment:
    """One execution environment: the Lambda service, the runtime process, Bedrock and PostHog stand-ins."""

    def __init__(self, stack: ExitStack, tmp_path: Path, **env: str) -> None:
        self.bedrock = stack.enter_context(BedrockStandIn())
        self.sink = stack.enter_context(PostHogSink())
        self.service = stack.enter_context(LambdaService())
        variables = {
            **lambda_environment(SPEC, environ={}),
            **loopback_environment(bedrock_url=self.bedrock.endpoint_url, posthog_host=self.sink.host),
            **env,
        }
        self.runtime = stack.enter_context(
            RuntimeProcess(
                self.service,
                SPEC.folder,
                python_paths=[ROOT / "layer", ROOT / "domain"],
                env=variables,
                log_path=tmp_path / "runtime.log",
            )
        )

    def invoke(self) -> Invocation:
        invocation = self.service.invoke(EVENT, timeout_s=20)
        assert invocation.error is None, invocation.error
        return invocation


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[Any]:
    def make(**env: str) -> Environment:
        return Environment(stack, tmp_path, **env)

    with ExitStack() as stack:
        yield make


def test_the_extension_registers_during_init(environment: Any) -> None:
    env = environment()
    env.invoke().wait_complete()
    assert env.service.extensions == ["tracked-bedrock-delivery"]
    assert "delivered after the response by the internal extension" in env.runtime.output


def test_response_reaches_the_caller_before_delivery_and_the_environment_waits_for_it(environment: Any) -> None:
    # GIVEN a PostHog that takes 0.6 s to answer
    env = environment()
    env.sink.set_mode("slow", delay=0.6)
    # WHEN one invocation runs
    invocation = env.invoke().wait_complete()
    # THEN the caller had the result before the events even left, and the invocation completed only after
    (request,) = env.sink.requests
    assert invocation.response["profile"]
    assert invocation.responded_at is not None
    assert invocation.completed_at is not None
    assert invocation.responded_at < request["received_at"] < invocation.completed_at
    assert invocation.completed_at - invocation.responded_at >= 0.6
    assert len(env.sink.events_named("$ai_generation")) == len(env.bedrock.requests)


def test_sigterm_at_shutdown_is_handled_by_the_layer(environment: Any) -> None:
    env = environment()
    env.invoke().wait_complete()
    assert env.runtime.terminate(timeout=3) == 0
    assert "Shutting down: delivering the analytics still held" in env.runtime.output


def test_next_invocation_is_not_handed_out_until_the_extension_is_done(environment: Any) -> None:
    env = environment()
    env.sink.set_mode("slow", delay=0.4)
    first = env.invoke()
    second = env.invoke()
    first.wait_complete()
    assert second.handed_at is not None
    assert first.completed_at is not None
    assert second.handed_at >= first.completed_at
    assert first.extensions_done_at["tracked-bedrock-delivery"] <= second.handed_at


def test_consecutive_invocations_deliver_every_event_once(environment: Any) -> None:
    env = environment()
    invocations = [env.invoke() for _ in range(4)]
    invocations[-1].wait_complete()
    events = env.sink.events_named("$ai_generation")
    assert len(events) == len(env.bedrock.requests) >= 4
    assert len({e["uuid"] for e in events}) == len(events)
    assert len({e["properties"]["$ai_trace_id"] for e in events}) == 4


@pytest.mark.parametrize("mode", ["hang", "error", "refuse"])
def test_failing_posthog_adds_nothing_to_the_callers_wait(mode: str, environment: Any) -> None:
    # GIVEN a 1 s delivery budget and a PostHog that fails
    env = environment(POSTHOG_DELIVERY_TIMEOUT="1.0")
    env.invoke().wait_complete()  # warm: the cold start is not the point here
    env.sink.set_mode(mode)  # type: ignore[arg-type]
    # WHEN an invocation runs
    invocation = env.invoke().wait_complete()
    # THEN the caller waited only for the handler; the failed delivery happened after, and was logged
    assert invocation.handed_at is not None
    assert invocation.responded_at is not None
    assert invocation.completed_at is not None
    assert invocation.responded_at - invocation.handed_at < 0.5
    assert invocation.completed_at - invocation.handed_at < 1.0 + 1.0
    assert "posthog_undelivered_event" in env.runtime.output


def test_delivery_in_the_handler_when_switched_off(environment: Any) -> None:
    # GIVEN the extension switched off and a PostHog that takes 0.5 s
    env = environment(POSTHOG_DELIVERY_EXTENSION="false")
    env.invoke()
    env.sink.set_mode("slow", delay=0.5)
    # WHEN an invocation runs
    invocation = env.invoke().wait_complete()
    # THEN the caller waited for the delivery (the fallback), and a log line said why
    assert env.service.extensions == []
    assert invocation.responded_at is not None
    assert invocation.handed_at is not None
    assert invocation.responded_at - invocation.handed_at >= 0.5
    assert "POSTHOG_DELIVERY_EXTENSION=false" in env.runtime.output
    assert len(env.sink.events_named("$ai_generation")) == len(env.bedrock.requests)


def test_registration_refused_after_init_falls_back_to_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracked_bedrock import extension, invocation

    with LambdaService() as service, PostHogSink() as sink:
        # GIVEN a service whose init phase is over (the runtime already asked for work)
        service._init_done = True
        monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", service.address)
        monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
        monkeypatch.setenv("POSTHOG_HOST", sink.host)
        # WHEN the layer tries to register
        started = extension.start_delivery_extension()
        # THEN it keeps delivering in the handler
        assert started is False
        assert invocation.delivery_path() is invocation.IN_HANDLER
        assert service.refused_registrations == ["tracked-bedrock-delivery"]


def test_no_extension_outside_lambda() -> None:
    from tracked_bedrock import extension, invocation

    assert extension.start_delivery_extension() is False
    assert invocation.delivery_path() is invocation.IN_HANDLER


def test_events_still_held_at_shutdown_are_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracked_bedrock.extension import DeliveryExtension
    from tracked_bedrock.invocation import Invocation as TrackedInvocation

    with PostHogSink() as sink:
        monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
        monkeypatch.setenv("POSTHOG_HOST", sink.host)
        ext = DeliveryExtension("127.0.0.1:9")
        running = TrackedInvocation(operation="parseCvText", request_id="r-1")
        running.events.append({"event": "$ai_generation", "distinct_id": "d", "properties": {}, "uuid": "u-1"})
        ext.opened(running)
        ext.flush_pending(0.5)
        assert [e["uuid"] for e in sink.wait_for(1)] == ["u-1"]
        assert running.events == []


def test_when_the_extension_loses_the_api_open_invocations_are_delivered_by_the_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tracked_bedrock.extension import DeliveryExtension
    from tracked_bedrock.invocation import Invocation as TrackedInvocation

    with PostHogSink() as sink:
        monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
        monkeypatch.setenv("POSTHOG_HOST", sink.host)
        # GIVEN an invocation opened while the extension was in charge
        ext = DeliveryExtension("127.0.0.1:9")  # nothing listens there
        running = TrackedInvocation(operation="parseCvText", request_id="r-2")
        ext.opened(running)
        # WHEN the extension loses the Extensions API
        ext.run()
        running.events.append({"event": "$ai_generation", "distinct_id": "d", "properties": {}, "uuid": "u-2"})
        ext.closed(running)
        # THEN the invocation's events are still delivered, by the handler path
        assert [e["uuid"] for e in sink.wait_for(1)] == ["u-2"]


HANDLER_THAT_OUTLIVES_ITS_DEADLINE = """
from tracked_bedrock import invoke_bedrock, track_invocation


@track_invocation("slowOperation")
def lambda_handler(event, context):
    first = invoke_bedrock(system_prompt="s", user_content="first call")
    second = invoke_bedrock(system_prompt="s", user_content="second call, slow")  # still running at the deadline
    return {"first": first, "second": second}
"""


def test_events_of_an_invocation_still_running_at_its_deadline_are_not_lost(tmp_path: Path) -> None:
    # GIVEN a handler whose second Bedrock call outlives the invocation's 2 s deadline
    task_root = tmp_path / "task"
    task_root.mkdir()
    (task_root / "app.py").write_text(HANDLER_THAT_OUTLIVES_ITS_DEADLINE)
    with ExitStack() as stack:
        bedrock = stack.enter_context(BedrockStandIn())
        sink = stack.enter_context(PostHogSink())
        service = stack.enter_context(LambdaService())
        stack.enter_context(
            RuntimeProcess(
                service,
                task_root,
                python_paths=[ROOT / "layer", ROOT / "domain"],
                env={
                    **loopback_environment(bedrock_url=bedrock.endpoint_url, posthog_host=sink.host),
                    "POSTHOG_DELIVERY_TIMEOUT": "0.3",
                },
                log_path=tmp_path / "runtime.log",
            )
        )
        service.invoke({}, timeout_s=30).wait_complete(30)  # cold start out of the way
        sink.reset()
        bedrock.reset()
        bedrock.inject_delay(0.0)  # first call: at once
        bedrock.inject_delay(3.5)  # second call: past the deadline
        # WHEN the invocation runs with a 2 s timeout
        invocation = service.invoke({}, timeout_s=30, function_timeout_s=2.0)
        # THEN the first call's event was delivered at the deadline, before the handler had even returned
        assert invocation.responded_at is not None
        (early,) = [e for e in sink.events if "first call" in str(e["properties"].get("$ai_input"))]
        assert early["received_at"] < invocation.responded_at
        assert early["received_at"] < invocation.queued_at + 2.0
        # and the late call's event still arrives (in Lambda the process would be stopped; nothing else is lost)
        late = sink.wait_for(2, timeout=5)
        assert {e["uuid"] for e in late} >= {early["uuid"]}
        assert len(late) == 2
