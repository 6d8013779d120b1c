"""Caller-visible delivery: how long the caller waits for an invocation, with and without the internal extension.

A real handler (parseCvText) runs under the real runtime client (``awslambdaric``) against the loopback Lambda
Runtime and Extensions API, calling the Bedrock stand-in and delivering to the PostHog stand-in. For each sink
behaviour, invocations alternate between two execution environments, one with the extension (the default) and one
with ``POSTHOG_DELIVERY_EXTENSION=false`` (delivery in the handler), and the figures are:

- ``caller_ms``: from the invocation handed to the runtime to its response posted (what AppSync waits for);
- ``after_response_ms``: from the response to the invocation's completion (the extension's work, billed but unseen).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import common

common.add_project_paths()

from loopback.bedrock import BedrockStandIn  # noqa: E402
from loopback.lambda_service import LambdaService, RuntimeProcess  # noqa: E402
from loopback.posthog import PostHogSink  # noqa: E402
from loopback.runner import lambda_environment, loopback_environment, read_functions  # noqa: E402

SCENARIOS: dict[str, dict[str, Any]] = {
    "healthy": {"mode": "ok"},
    "slow_300ms": {"mode": "slow", "delay": 0.3},
    "error_500": {"mode": "error"},
    "hang": {"mode": "hang"},
}


def _environment(
    stack: ExitStack, bedrock: BedrockStandIn, sink: PostHogSink, extension: bool, log: Path
) -> LambdaService:
    spec = read_functions()["parse_cv_text"]
    service = stack.enter_context(LambdaService())
    env = {
        **lambda_environment(spec, environ={}),
        **loopback_environment(bedrock_url=bedrock.endpoint_url, posthog_host=sink.host),
        "POSTHOG_DELIVERY_EXTENSION": "true" if extension else "false",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    stack.enter_context(
        RuntimeProcess(
            service, spec.folder, python_paths=[common.ROOT / "layer", common.ROOT / "domain"], env=env, log_path=log
        )
    )
    return service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="invocations per scenario and path (default 15)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 invocations each")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else args.runs
    report = common.Report("extension_delivery", quick=args.quick)
    event = json.loads((common.ROOT / "events" / "parse_cv_text.json").read_text())
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        bedrock = stack.enter_context(BedrockStandIn())
        sink = stack.enter_context(PostHogSink())
        paths = {
            "extension": _environment(stack, bedrock, sink, True, Path(tmp) / "extension.log"),
            "in_handler": _environment(stack, bedrock, sink, False, Path(tmp) / "in_handler.log"),
        }
        for service in paths.values():  # cold starts are not the point
            service.invoke(event, timeout_s=30).wait_complete(30)
        for scenario, mode in SCENARIOS.items():
            sink.set_mode(mode["mode"], delay=mode.get("delay"))
            samples: dict[str, dict[str, list[float]]] = {p: {"caller": [], "after": []} for p in paths}
            for _ in range(runs):
                for path, service in paths.items():
                    invocation = service.invoke(event, timeout_s=30).wait_complete(30)
                    assert invocation.handed_at is not None
                    assert invocation.responded_at is not None
                    assert invocation.completed_at is not None
                    samples[path]["caller"].append((invocation.responded_at - invocation.handed_at) * 1000)
                    samples[path]["after"].append((invocation.completed_at - invocation.responded_at) * 1000)
            sink.set_mode("ok")
            for path, figures in samples.items():
                report.figure(f"{scenario}.{path}.caller_median_ms", statistics.median(figures["caller"]))
                report.figure(f"{scenario}.{path}.caller_worst_ms", max(figures["caller"]))
                report.figure(f"{scenario}.{path}.after_response_median_ms", statistics.median(figures["after"]))
            saved = statistics.median(samples["in_handler"]["caller"]) - statistics.median(
                samples["extension"]["caller"]
            )
            report.figure(f"{scenario}.caller_ms_saved_by_extension", saved, "median in-handler minus extension")
        report.details["runs_per_scenario_and_path"] = runs
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
