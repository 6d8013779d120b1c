"""Tracking overhead: what ``invoke_bedrock`` inside ``tracked_invocation`` costs per call, beyond the call itself.

The same Converse request is sent through the tracked client and through a raw boto3 client configured the same
way (same retries and timeouts, without the layer's event hooks), both against the loopback Bedrock stand-in
running in its own process. Four variants are interleaved call by call, in an order rotating every round, so
that drift on a shared machine hits them alike:

``tracked``
    The layer as deployed: analytics on, so each call builds its ``$ai_generation`` event, prices the call,
    and prints one JSON log line and one EMF metrics blob.
``quiet``
    The same with the log handler swapped for a ``NullHandler`` and the metrics stubbed out:
    ``tracked - quiet`` is what the log line and the EMF blob cost.
``proposed``
    ``quiet`` plus one hand-built EMF line per call (the log fields and the six metrics in one JSON line): what
    the change recommended in ``bench/README.md`` would cost.
``raw``
    ``client.converse(**request)`` and reading the answer (for the structured call, validating the tool's input
    with the pydantic model, whose tool spec a caller would build once).

Delivery to PostHog is excluded: a delivery path that drops the events replaces it (``delivery.py`` measures
delivery). stdout goes to /dev/null during the runs so that a terminal does not dominate. Besides the A/B
difference, each tracked call's time minus the Bedrock call time the layer measured itself (``$ai_latency``)
gives the time spent outside the HTTP call, free of the stand-in's noise. Then the whole tracked path is timed
against an instant fake client (no HTTP at all), and each piece of the per-call work on its own.

Run: ``.venv/bin/python bench/tracking_overhead.py [--calls 300] [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import common
from pydantic import BaseModel, Field

NAME = "tracking_overhead"
SYSTEM_PROMPT = "You summarise short texts for a career assistant. Answer in one sentence."
USER_CONTENT = "Summarise: a backend engineer with six years of Python, AWS Lambda and PostgreSQL experience."
MAX_TOKENS = 200
TRACKED_VARIANTS = ("tracked", "quiet", "proposed")
VARIANTS = (*TRACKED_VARIANTS, "raw")
TARGET_US = 500


class Summary(BaseModel):
    """A short structured summary (the small model of the structured call)."""

    title: str = Field(description="A few words naming the profile.")
    seniority: int = Field(ge=0, le=10, description="0 (junior) to 10 (principal).")
    skills: list[str] = Field(default_factory=list, max_length=5)


class DropEvents:
    """A delivery path that counts the invocation's events and drops them (delivery is timed elsewhere).

    It keeps the Bedrock call time the layer itself measured (``$ai_latency``, around ``client.converse``), so
    that the time a tracked call spends outside the HTTP call can be told apart from the stand-in's noise.
    """

    def __init__(self) -> None:
        self.events = 0
        self.last_call_us = 0.0

    def opened(self, invocation: Any) -> None:
        pass

    def closed(self, invocation: Any) -> None:
        self.events += len(invocation.events)
        self.last_call_us = sum(event["properties"]["$ai_latency"] for event in invocation.events) * 1e6
        invocation.events.clear()


class NoMetrics:
    """Stands in for Powertools' EphemeralMetrics: nothing is built or printed."""

    def __init__(self, operation: str = "") -> None:
        self.operation = operation

    def add_dimension(self, **_: Any) -> None:
        pass

    def add_metric(self, **_: Any) -> None:
        pass

    def flush_metrics(self) -> None:
        pass


class OneEmfLine(NoMetrics):
    """The proposed output: the metrics (and the log line's fields) in one hand-built EMF JSON line."""

    def __init__(self, operation: str = "") -> None:
        super().__init__(operation)
        self.values: dict[str, float] = {}
        self.units: list[dict[str, str]] = []

    def add_metric(self, **metric: Any) -> None:
        self.values[metric["name"]] = metric["value"]
        self.units.append({"Name": metric["name"], "Unit": str(getattr(metric["unit"], "value", metric["unit"]))})

    def flush_metrics(self) -> None:
        line = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{"Namespace": "Bench", "Dimensions": [["operation"]], "Metrics": self.units}],
            },
            "level": "INFO",
            "message": "Bedrock call",
            "operation": self.operation,
            **self.values,
        }
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")


class Output:
    """Switches the layer's per-call output between the variants (outside the timed region)."""

    def __init__(self) -> None:
        from tracked_bedrock import invocation
        from tracked_bedrock.observability import logger, new_metrics

        # The layer's functions look these names up in their module's globals at each call: swap them there.
        self._invocation_globals: dict[str, Any] = vars(invocation)
        self._new_metrics = new_metrics
        self._std_logger: logging.Logger = logger._logger
        self._handlers = list(self._std_logger.handlers)
        self._null: list[logging.Handler] = [logging.NullHandler()]

    def use(self, variant: str) -> None:
        if variant in ("quiet", "proposed"):
            self._std_logger.handlers = self._null
            self._invocation_globals["new_metrics"] = NoMetrics if variant == "quiet" else OneEmfLine

    def restore(self) -> None:
        self._std_logger.handlers = self._handlers
        self._invocation_globals["new_metrics"] = self._new_metrics

    @contextmanager
    def variant(self, variant: str) -> Iterator[None]:
        self.use(variant)
        try:
            yield
        finally:
            self.restore()


def raw_client() -> Any:
    """A boto3 client configured as the layer's (``clients.bedrock_client``), without its event hooks."""
    import boto3
    from botocore.config import Config

    from tracked_bedrock.settings import get_settings

    settings = get_settings()
    return boto3.client(
        "bedrock-runtime",
        config=Config(
            retries={"mode": settings.bedrock_retry_mode, "total_max_attempts": settings.bedrock_max_attempts},
            read_timeout=settings.bedrock_read_timeout,
            connect_timeout=settings.bedrock_connect_timeout,
            user_agent_extra="tracked-bedrock",
        ),
    )


def converse_request(structured: bool) -> dict[str, Any]:
    """The request ``invoke_bedrock`` sends for the bench's call (checked against the stand-in's records)."""
    from tracked_bedrock.settings import get_settings
    from tracked_bedrock.structured import tool_spec

    request: dict[str, Any] = {
        "modelId": get_settings().model_id,
        "system": [{"text": SYSTEM_PROMPT}],
        "messages": [{"role": "user", "content": [{"text": USER_CONTENT}]}],
        "inferenceConfig": {"maxTokens": MAX_TOKENS, "temperature": 0.0},
    }
    if structured:
        spec = tool_spec(Summary)
        request["toolConfig"] = {"tools": [{"toolSpec": spec}], "toolChoice": {"tool": {"name": spec["name"]}}}
    return request


def tracked_call(structured: bool) -> Callable[[], object]:
    """One tracked invocation making one ``invoke_bedrock`` call, as a handler would."""
    from loopback.context import LambdaContext
    from tracked_bedrock import invoke_bedrock, tracked_invocation

    def call() -> object:
        # A fresh context per call, as Lambda gives one per invocation (its deadline arms the deadline guard).
        with tracked_invocation("benchOperation", context=LambdaContext(function_name="bench")):
            if structured:
                return invoke_bedrock(
                    system_prompt=SYSTEM_PROMPT,
                    user_content=USER_CONTENT,
                    output_model=Summary,
                    max_tokens=MAX_TOKENS,
                    temperature=0.0,
                )
            return invoke_bedrock(
                system_prompt=SYSTEM_PROMPT, user_content=USER_CONTENT, max_tokens=MAX_TOKENS, temperature=0.0
            )

    return call


def raw_call(structured: bool) -> Callable[[], object]:
    """The same call on a raw client: converse, then the answer's text or the validated model."""
    client = raw_client()
    request = converse_request(structured)

    def call() -> object:
        response = client.converse(**request)
        blocks = response["output"]["message"]["content"]
        if structured:
            tool_input = next(block["toolUse"]["input"] for block in blocks if "toolUse" in block)
            return Summary.model_validate(tool_input)
        return "".join(block["text"] for block in blocks if "text" in block)

    return call


def interleaved(structured: bool, output: Output, drop: DropEvents, rounds: int, warmup: int) -> dict[str, list[float]]:
    """Per-call microseconds of each variant: one call of each per round, in an order rotating every round.

    Also ``<variant>_outside``: a tracked call's time minus the time the layer measured around the HTTP call.
    """
    calls = {name: tracked_call(structured) for name in TRACKED_VARIANTS} | {"raw": raw_call(structured)}
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    samples.update({f"{name}_outside": [] for name in TRACKED_VARIANTS})
    for round_ in range(warmup + rounds):
        shift = round_ % len(VARIANTS)
        for name in VARIANTS[shift:] + VARIANTS[:shift]:
            call = calls[name]
            with output.variant(name):
                started = time.perf_counter_ns()
                call()
                elapsed = (time.perf_counter_ns() - started) / 1000
            if round_ >= warmup:
                samples[name].append(elapsed)
                if name != "raw":
                    samples[f"{name}_outside"].append(elapsed - drop.last_call_us)
    return samples


def summarise(samples: dict[str, list[float]]) -> dict[str, Any]:
    """Medians, p90s, the extra time of each tracked variant over raw, and its paired (same-round) median."""
    stats = {name: common.Stats.of(values) for name, values in samples.items()}
    raw = stats["raw"]
    figures: dict[str, Any] = {"stats_us": {name: s.as_dict() for name, s in stats.items()}}
    for name in TRACKED_VARIANTS:
        paired = [t - r for t, r in zip(samples[name], samples["raw"], strict=True)]
        figures[name] = {
            "median_extra_us": round(stats[name].median - raw.median, 1),
            "paired_median_extra_us": round(common.Stats.of(paired).median, 1),
            "p90_extra_us": round(stats[name].p90 - raw.p90, 1),
            "ratio": round(stats[name].median / raw.median, 3),
            "outside_call_us": round(stats[f"{name}_outside"].median, 1),
        }
    log_and_metrics = [t - q for t, q in zip(samples["tracked"], samples["quiet"], strict=True)]
    figures["log_and_metrics_us"] = round(common.Stats.of(log_and_metrics).median, 1)
    return figures


# --------------------------------------------------------------------------------------------- without HTTP


class InstantClient:
    """A Bedrock client answering at once with a canned Converse response: the tracked path without HTTP."""

    class meta:  # mirrors botocore's ``client.meta``
        endpoint_url = "http://127.0.0.1:1"

    def converse(self, **request: Any) -> dict[str, Any]:
        if "toolConfig" in request:
            name = request["toolConfig"]["tools"][0]["toolSpec"]["name"]
            tool_input = {"title": "Backend engineer", "seniority": 5, "skills": ["Python", "AWS Lambda"]}
            content: list[dict[str, Any]] = [{"toolUse": {"toolUseId": "t1", "name": name, "input": tool_input}}]
            stop = "tool_use"
        else:
            content, stop = [{"text": "A backend engineer with six years of Python on AWS Lambda."}], "end_turn"
        return {
            "ResponseMetadata": {"RequestId": "bench", "HTTPStatusCode": 200, "RetryAttempts": 0},
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": 48, "outputTokens": 40, "totalTokens": 88},
            "metrics": {"latencyMs": 1},
        }


def without_http(output: Output, repeat: int) -> dict[str, float]:
    """The whole tracked path (invocation, call, event, price, log, metrics) with an instant client, µs/call."""
    from tracked_bedrock import clients

    real = clients.bedrock_client
    instant = InstantClient()
    clients.bedrock_client = lambda: instant  # type: ignore[assignment]
    figures: dict[str, float] = {}
    try:
        for kind in ("text", "structured"):
            call = tracked_call(kind == "structured")
            for variant in TRACKED_VARIANTS:
                with output.variant(variant):
                    figures[f"{kind}.{variant}_us"] = per_op_us(call, repeat)
    finally:
        clients.bedrock_client = real
    return figures


def per_op_us(operation: Callable[[], object], repeat: int, batches: int = 15) -> float:
    """Median over ``batches`` of the mean time of ``operation`` in a batch of ``repeat // batches`` runs."""
    per_batch = max(1, repeat // batches)
    operation()
    means = []
    for _ in range(batches):
        started = time.perf_counter_ns()
        for _ in range(per_batch):
            operation()
        means.append((time.perf_counter_ns() - started) / per_batch / 1000)
    means.sort()
    return means[len(means) // 2]


def components(repeat: int) -> dict[str, float]:
    """The pieces of per-call tracking work, each timed alone (µs per call, no network)."""
    from cv_domain import ParsedCv
    from tracked_bedrock import tracked_invocation
    from tracked_bedrock.analytics import Generation, generation_event
    from tracked_bedrock.invocation import Invocation
    from tracked_bedrock.observability import MetricUnit, logger, new_metrics
    from tracked_bedrock.pricing import ModelRef
    from tracked_bedrock.settings import get_settings
    from tracked_bedrock.structured import tool_spec

    settings = get_settings()
    ref = ModelRef.parse(settings.model_id)
    build_spec: Callable[[type[BaseModel]], dict[str, Any]] = getattr(tool_spec, "__wrapped__", tool_spec)

    def generation(tool: dict[str, Any] | None = None) -> Generation:
        gen = Generation(
            operation="benchOperation",
            trace_id=str(uuid.uuid4()),
            model_id=ref.model_id,
            vendor=ref.vendor,
            api="converse",
            system_prompt=SYSTEM_PROMPT,
            user_content=USER_CONTENT,
            max_tokens=MAX_TOKENS,
            temperature=0.0,
            tool=tool,
        )
        gen.input_tokens, gen.output_tokens, gen.latency_s, gen.stop_reason = 48, 40, 0.0021, "end_turn"
        if tool is None:
            gen.output_text = "A backend engineer with six years of Python on AWS Lambda."
        else:
            gen.tool_input = {"title": "Backend engineer", "seniority": 5, "skills": ["Python", "AWS Lambda"]}
        return gen

    def price() -> object:
        return settings.price_book.cost(ref.model_id, input_tokens=48, output_tokens=40)

    done, done_structured = generation(), generation(tool_spec(Summary))
    done.cost = done_structured.cost = settings.price_book.cost(ref.model_id, input_tokens=48, output_tokens=40)
    fields = {
        "operation": done.operation,
        "ai_trace_id": done.trace_id,
        "model_id": done.model_id,
        "input_tokens": done.input_tokens,
        "output_tokens": done.output_tokens,
        "cost_usd": done.cost.total_usd,
        "latency_s": round(done.latency_s, 4),
        "retry_attempts": 0,
        "stop_reason": done.stop_reason,
        "error_code": None,
    }
    units = (MetricUnit.Count, MetricUnit.Count, MetricUnit.NoUnit, MetricUnit.Milliseconds) + (MetricUnit.Count,) * 2
    names = ("InputTokens", "OutputTokens", "CostUSD", "Latency", "Retries", "Errors")

    def log_line() -> None:  # what Invocation.record logs
        logger.info("Bedrock call", extra=fields)

    def metrics_blob(factory: Callable[[str], Any]) -> None:  # what Invocation.record emits
        metrics = factory(done.operation)
        for name, unit in zip(names, units, strict=True):
            metrics.add_metric(name=name, unit=unit, value=1.0)
        metrics.flush_metrics()

    invocation = Invocation(operation="benchOperation")

    def record() -> None:
        invocation.events.clear()
        invocation.record(done)

    def open_close() -> None:
        with tracked_invocation("benchOperation", request_id="bench"):
            pass

    return {
        "generation_new_us": per_op_us(generation, repeat),
        "price_us": per_op_us(price, repeat),
        "event_build_text_us": per_op_us(lambda: generation_event(done, settings, None), repeat),
        "event_build_structured_us": per_op_us(lambda: generation_event(done_structured, settings, None), repeat),
        "invocation_open_close_us": per_op_us(open_close, repeat),
        "log_line_us": per_op_us(log_line, repeat),
        "metrics_blob_us": per_op_us(lambda: metrics_blob(new_metrics), repeat),
        "one_emf_line_by_hand_us": per_op_us(lambda: metrics_blob(OneEmfLine), repeat),
        "record_us": per_op_us(record, repeat),
        # What the layer's cache (lru_cache since 9ecc46e) saves per structured call: building the schema.
        "tool_spec_build_summary_us": per_op_us(lambda: build_spec(Summary), repeat),
        "tool_spec_build_parsed_cv_us": per_op_us(lambda: build_spec(ParsedCv), max(60, repeat // 10)),
        "tool_spec_call_us": per_op_us(lambda: tool_spec(ParsedCv), repeat),
    }


def stdout_bytes_per_call() -> int:
    """Bytes one recorded call writes to stdout (its log line and EMF blob): what CloudWatch Logs ingests."""
    from tracked_bedrock.analytics import Generation
    from tracked_bedrock.invocation import Invocation

    gen = Generation("benchOperation", str(uuid.uuid4()), "eu.amazon.nova-micro-v1:0", "amazon", "converse", "s", "u")
    gen.input_tokens, gen.output_tokens, gen.latency_s, gen.stop_reason = 48, 40, 0.0021, "end_turn"
    with tempfile.TemporaryFile() as capture:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(capture.fileno(), 1)
        try:
            Invocation(operation="benchOperation").record(gen)
            sys.stdout.flush()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        capture.seek(0)
        return len(capture.read())


# --------------------------------------------------------------------------------------------- main


def report_figures(
    report: common.Report,
    results: dict[str, Any],
    no_http: dict[str, float],
    parts: dict[str, float],
    log_bytes: int,
) -> None:
    """One summary line per figure; the details go to the results file."""
    for kind, figures in results.items():
        report.details[kind] = figures
        stats = figures["stats_us"]
        report.figure(f"{kind}.raw_median_us", stats["raw"]["median"], "boto3 converse, loopback stand-in")
        report.figure(f"{kind}.tracked_median_us", stats["tracked"]["median"])
        tracked = figures["tracked"]
        report.figure(f"{kind}.median_extra_us", tracked["median_extra_us"], f"target < {TARGET_US}")
        report.figure(f"{kind}.paired_median_extra_us", tracked["paired_median_extra_us"])
        report.figure(f"{kind}.p90_extra_us", tracked["p90_extra_us"])
        report.figure(f"{kind}.ratio", tracked["ratio"], "tracked / raw medians, on loopback latency")
        report.figure(f"{kind}.outside_call_us", tracked["outside_call_us"], "tracked time - its own $ai_latency")
        report.figure(f"{kind}.log_and_metrics_us", figures["log_and_metrics_us"], "tracked - quiet, paired")
        report.figure(f"{kind}.quiet_median_extra_us", figures["quiet"]["median_extra_us"], "no log line, no EMF")
        report.figure(f"{kind}.proposed_median_extra_us", figures["proposed"]["median_extra_us"])
    report.details["without_http_us"] = no_http
    for key, value in no_http.items():
        report.figure(f"no_http.{key}", value, "instant fake client" if key.endswith("tracked_us") else "")
    report.details["components_us"] = parts
    for key, value in parts.items():
        report.figure(f"component.{key}", value)
    report.details["stdout_bytes_per_call"] = log_bytes
    report.figure("stdout_bytes_per_call", log_bytes, "log line + EMF blob, ingested by CloudWatch Logs")
    worst = max(results[kind]["tracked"]["median_extra_us"] for kind in results)
    report.figure("median_extra_us", worst, f"worst of text and structured; target < {TARGET_US}")
    report.figure("target_met", "yes" if worst < TARGET_US else "no")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300, help="timed calls per variant (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed rounds first (default 30)")
    parser.add_argument("--repeat", type=int, default=3000, help="runs of each in-process timing (default 3000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 30 calls, 300 in-process runs")
    parser.add_argument(
        "--metrics-off",
        action="store_true",
        help="as the template deploys by default (POWERTOOLS_METRICS_DISABLED=true); results in <name>_metrics_off",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.warmup, args.repeat = 30, 5, 300

    # The host is never contacted: events are dropped by the delivery path below.
    common.prepare_environment(POSTHOG_API_KEY=common.BENCH_API_KEY, POSTHOG_HOST="http://127.0.0.1:9")
    if args.metrics_off:
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    report = common.Report(f"{NAME}_metrics_off" if args.metrics_off else NAME, quick=args.quick)
    report.details["config"] = {
        "calls_per_variant": args.calls,
        "warmup_rounds": args.warmup,
        "in_process_repeat": args.repeat,
        "prompt_chars": len(SYSTEM_PROMPT) + len(USER_CONTENT),
        "max_tokens": MAX_TOKENS,
    }

    with common.BedrockProcess() as bedrock:
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock.endpoint_url
        from tracked_bedrock.invocation import set_delivery_path

        drop = DropEvents()
        set_delivery_path(drop)
        output = Output()
        results: dict[str, Any] = {}
        gc.collect()
        with common.quiet_stdout():
            for kind in ("text", "structured"):
                results[kind] = summarise(interleaved(kind == "structured", output, drop, args.calls, args.warmup))
            no_http = without_http(output, args.repeat)
            parts = components(args.repeat)
        log_bytes = stdout_bytes_per_call()
        expected = len(TRACKED_VARIANTS) * (args.calls + args.warmup) * 2
        if drop.events < expected:
            raise SystemExit(f"expected at least {expected} events built, saw {drop.events}")
        set_delivery_path(None)

    report_figures(report, results, no_http, parts, log_bytes)
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
