"""Failure drills on the PostHog side: whatever PostHog does, the operation's result and latency do not change, and
no event is lost: each one is delivered, or logged as a JSON line that ``scripts/replay_undelivered.py`` replays.
"""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from loopback.bedrock import BedrockStandIn, estimate_tokens
from loopback.posthog import Mode, PostHogSink
from scripts import replay_undelivered
from tests.conftest import undelivered_from_logs
from tests.drills.drill_support import (
    as_sent,
    invoke,
    result_model,
    sample_event,
    timed,
    wait_for_uuids,
    wire_bytes,
)
from tracked_bedrock import invoke_bedrock, tracked_invocation
from tracked_bedrock.delivery import UNDELIVERED_KEY
from tracked_bedrock.observability import logger

BUDGET_S = 0.5
#: Room for a loaded machine on top of the delivery budget.
SLACK_S = 1.0
#: What PostHog ingestion accepts for one event (the layer aims at 880 KiB of properties).
MAX_EVENT_BYTES = 900 * 1024
FIELDS = ("parseCvText", "generateCoverLetter")
#: Nova Micro's list prices (USD per 1M tokens), the default MODEL_ID.
NOVA_MICRO_PRICES = (0.035, 0.14)


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("POSTHOG_DELIVERY_TIMEOUT", str(BUDGET_S))
    return BUDGET_S


def _canonical(result: Any) -> str:
    return json.dumps(result, sort_keys=True, ensure_ascii=False)


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The undelivered events' log lines exactly as the layer's logger prints them, with a CloudWatch-style
    prefix (timestamp, request id) on every other line, as ``aws logs filter-log-events`` returns them."""
    formatter = logger.registered_formatter
    lines = [formatter.format(record) for record in caplog.records if hasattr(record, UNDELIVERED_KEY)]
    return [
        f"2026-12-04T12:00:00.000Z\t{index:08d}-request\t{line}" if index % 2 else line
        for index, line in enumerate(lines)
    ]


def _replay(lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Run the replay script on the lines, as a user would on a log export (POSTHOG_* point at the sink)."""
    export = tmp_path / "undelivered.log"
    export.write_text("\n".join(["START RequestId: 1 Version: $LATEST", *lines, "END RequestId: 1"]) + "\n", "utf-8")
    assert replay_undelivered.main([str(export)]) == 0
    out = capsys.readouterr().out
    assert f"found {len(lines)} undelivered events" in out
    assert f"replayed {len(lines)} events" in out


def _run_all() -> dict[str, tuple[Any, float]]:
    """Each operation's result (or exception) on its sample event, and how long the invocation took."""
    return {field: timed(partial(invoke, field)) for field in FIELDS}


# mode, its delay, and whether an abandoned POST still lands in PostHog later (the duplicate case)
FAILURES: list[tuple[Mode, float | None, bool]] = [
    ("error", None, False),
    ("refuse", None, False),
    ("reset", None, False),
    ("hang", None, True),
    ("slow", 1.5, True),
    ("trickle", 0.1, True),
]


@pytest.mark.parametrize(("mode", "delay", "lands_late"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failing_posthog_changes_nothing_for_the_caller_and_loses_no_event(
    mode: Mode,
    delay: float | None,
    lands_late: bool,
    budget: float,
    bedrock: BedrockStandIn,
    posthog: PostHogSink,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # GIVEN each operation's result and duration with a healthy PostHog
    healthy = _run_all()
    assert len(posthog.events) == len(FIELDS)
    posthog.reset()
    bedrock.reset()
    caplog.clear()
    # WHEN PostHog fails in this mode while the operations run again
    posthog.set_mode(mode, delay=delay)
    failing = _run_all()
    if mode == "error":  # a 500 is worth one more try inside the budget; nothing else is
        assert posthog.attempts["error"] == 2 * len(FIELDS)
    # THEN each result is the healthy one, byte for byte, and the delivery cost at most the budget
    for field in FIELDS:
        result, elapsed = failing[field]
        assert not isinstance(result, Exception), result
        result_model(field).model_validate(result)
        assert _canonical(result) == _canonical(healthy[field][0])
        assert elapsed - healthy[field][1] <= budget + SLACK_S, f"{field}: {elapsed:.2f} s"
    # and every event (one Bedrock call each) is in the log, ready to replay, each once
    logged = undelivered_from_logs(caplog)
    assert len(logged) == len(bedrock.requests) == len(FIELDS)
    assert sorted(e["properties"]["operation"] for e in logged) == sorted(FIELDS)
    uuids = {e["uuid"] for e in logged}
    assert len(uuids) == len(logged)
    # and PostHog, once healthy again, either never got them, or gets exactly the same events late
    posthog.set_mode("ok")  # releases held requests
    if lands_late:
        late = wait_for_uuids(posthog, uuids)
        assert sorted((as_sent(e) for e in late), key=lambda e: e["uuid"]) == sorted(logged, key=lambda e: e["uuid"])
    else:
        assert posthog.events == []
    arrived = len(posthog.events)
    # WHEN the log lines are replayed
    _replay(_log_lines(caplog), tmp_path, capsys)
    # THEN PostHog holds exactly the logged events, original uuids and timestamps included
    replayed = [as_sent(e) for e in posthog.events[arrived:]]
    assert sorted(replayed, key=lambda e: e["uuid"]) == sorted(logged, key=lambda e: e["uuid"])
    # and a late copy plus its replay are one event once PostHog de-duplicates on the uuid
    assert {e["uuid"] for e in posthog.events} == uuids


def test_a_sink_slower_than_the_budget_gets_the_events_late_and_the_log_has_them_too(
    budget: float, bedrock: BedrockStandIn, posthog: PostHogSink, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN PostHog answering after 1.5 s, three times the budget
    posthog.set_mode("slow", delay=1.5)
    # WHEN an operation runs
    result, elapsed = timed(lambda: invoke("generateCoverLetter"))
    # THEN it returned well before PostHog answered
    assert not isinstance(result, Exception), result
    assert elapsed < 1.5
    logged = undelivered_from_logs(caplog)
    assert posthog.events == []
    # and the abandoned POST still landed afterwards: the same event, by uuid, is in the sink and in the log
    (late,) = wait_for_uuids(posthog, {e["uuid"] for e in logged}, timeout=5)
    (event,) = logged
    assert late["uuid"] == event["uuid"]
    assert as_sent(late) == event
    (request,) = posthog.requests
    assert request["answered_at"] - request["received_at"] >= 1.5


# ------------------------------------------------------------------------------------------------ huge events


def test_a_cv_at_the_input_limit_is_reported_whole_and_under_the_event_limit(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    # GIVEN a CV of 50,000 characters, the most parseCvText accepts, half of them outside ASCII
    line = "Développeuse Python à Zürich — 8 ans, équipe de 5, coût −38 %. "
    cv_text = (line * (50_000 // len(line) + 1))[:50_000]
    # WHEN parseCvText runs on it
    result = invoke("parseCvText", sample_event("parseCvText", arguments={"cvText": cv_text}))
    # THEN the profile comes back, and the one event carries the whole CV within PostHog's event limit
    result_model("parseCvText").model_validate(result)
    (event,) = posthog.wait_for(1)
    props = event["properties"]
    assert wire_bytes(event) < MAX_EVENT_BYTES
    assert "content_truncated" not in props
    assert cv_text.strip() in props["$ai_input"][1]["content"]
    (request,) = bedrock.requests
    assert props["$ai_input_tokens"] == estimate_tokens(request.prompt_text)
    assert props["$ai_input_tokens"] > 50_000 // 4
    assert props["$ai_total_cost_usd"] > 0


@pytest.mark.parametrize("unit", ["x", "😀"], ids=["ascii", "emoji"])
def test_a_huge_call_is_truncated_under_the_event_limit_and_keeps_its_figures(
    unit: str, bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    # GIVEN 2 MB of user content in one word: the stand-in echoes it, so the answer is ~2 MB too
    user_content = unit * (2_000_000 // len(unit.encode()))
    system_prompt = "You repeat what you are given."
    # WHEN one tracked text call is made
    with tracked_invocation("drillHugeCall") as invocation:
        answer = invoke_bedrock(system_prompt=system_prompt, user_content=user_content)
    # THEN the caller gets the whole answer: truncation is for analytics only
    assert user_content in answer
    # and the event PostHog got fits its limit, says it was cut, and how big it was
    (event,) = posthog.wait_for(1)
    props = event["properties"]
    assert wire_bytes(event) < MAX_EVENT_BYTES
    assert props["content_truncated"] is True
    assert props["content_original_bytes"] > 2 * 2_000_000
    sent_input = props["$ai_input"][1]["content"]
    assert sent_input.startswith(unit * 100)
    assert "[truncated" in sent_input
    assert len(props["$ai_output_choices"][0]["content"]) < len(answer)
    # and it keeps every figure of the call: tokens as Bedrock counted them, and their cost
    input_tokens = math.ceil((len(system_prompt) + len(user_content)) / 4)
    assert props["$ai_input_tokens"] == input_tokens
    assert props["$ai_output_tokens"] == estimate_tokens(answer)
    input_price, output_price = NOVA_MICRO_PRICES
    assert props["$ai_input_cost_usd"] == pytest.approx(input_tokens * input_price / 1e6)
    assert props["$ai_output_cost_usd"] == pytest.approx(props["$ai_output_tokens"] * output_price / 1e6)
    assert props["$ai_trace_id"] == invocation.trace_id
    assert props["$ai_is_error"] is False


def test_the_replay_does_not_report_success_when_a_logged_event_cannot_be_read(
    budget: float,
    bedrock: BedrockStandIn,
    posthog: PostHogSink,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # GIVEN one undelivered event whose log line reached the export cut in two
    posthog.set_mode("error")
    invoke("parseCvText")
    (line,) = _log_lines(caplog)
    middle = len(line) // 2
    export = tmp_path / "undelivered.log"
    export.write_text(f"{line[:middle]}\n{line[middle:]}\n", "utf-8")
    posthog.set_mode("ok")
    # WHEN the replay script runs on the export
    code = replay_undelivered.main([str(export)])
    out = capsys.readouterr().out
    # THEN it does not pass for a success: the event was not replayed, and it says so (or fails)
    assert posthog.events == []
    assert code != 0 or "could not" in out.lower(), out
