"""``make demo``: the twelve operations end to end on this machine, then the analytics you would read in PostHog.

It starts the loopback Bedrock and PostHog stand-ins, runs every operation on its sample event (``events/``)
through the GraphQL schema as AppSync would call the resolver, prints each result briefly, and ends with the
per-operation summary of the ``$ai_generation`` events the real posthog transport delivered: calls, tokens, cost,
latency p50/p95, errors and retries. It writes the captured events (JSON), the summary (JSON) and a chart (PNG).

The stand-in throttles one call on purpose, so the summary shows a retry. Token counts come from the stand-in
(about four characters a token), priced at the template's model (Nova Micro by default).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layer"), str(ROOT / "domain")]

from graphql import build_schema  # noqa: E402

from loopback.appsync import AppSyncOffline, query_for  # noqa: E402
from loopback.bedrock import BedrockStandIn  # noqa: E402
from loopback.posthog import PostHogSink  # noqa: E402
from loopback.runner import lambda_environment, load_handler, loopback_environment, read_functions, snake_case  # noqa: E402

SCHEMA = ROOT / "schema.graphql"
EVENTS = ROOT / "events"
THROTTLED_OPERATION = "generateCv"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-operation figures from ``$ai_generation`` events, as a PostHog insight would show them."""
    by_operation: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_operation.setdefault(event["properties"]["operation"], []).append(event["properties"])
    rows = []
    for operation, props in by_operation.items():
        latencies = [p["$ai_latency"] for p in props]
        rows.append(
            {
                "operation": operation,
                "calls": len(props),
                "input_tokens": sum(p["$ai_input_tokens"] for p in props),
                "output_tokens": sum(p["$ai_output_tokens"] for p in props),
                "cost_usd": sum(p.get("$ai_total_cost_usd", 0.0) for p in props),
                "latency_p50_s": percentile(latencies, 50),
                "latency_p95_s": percentile(latencies, 95),
                "errors": sum(1 for p in props if p["$ai_is_error"]),
                "retries": sum(p.get("bedrock_retry_attempts", 0) for p in props),
            }
        )
    all_latencies = [e["properties"]["$ai_latency"] for e in events]
    totals = {
        "operations": len(rows),
        "calls": sum(r["calls"] for r in rows),
        "input_tokens": sum(r["input_tokens"] for r in rows),
        "output_tokens": sum(r["output_tokens"] for r in rows),
        "cost_usd": sum(r["cost_usd"] for r in rows),
        "latency_p50_s": percentile(all_latencies, 50) if all_latencies else 0.0,
        "latency_p95_s": percentile(all_latencies, 95) if all_latencies else 0.0,
        "errors": sum(r["errors"] for r in rows),
        "retries": sum(r["retries"] for r in rows),
    }
    return {"rows": rows, "totals": totals}


def print_summary(summary: dict[str, Any]) -> None:
    header = f"{'operation':<30}{'calls':>6}{'in tok':>9}{'out tok':>9}{'cost USD':>12}{'p50 ms':>9}{'p95 ms':>9}"
    print("\n" + header + f"{'errors':>8}{'retries':>8}")
    print("-" * (len(header) + 16))
    for row in [*summary["rows"], {"operation": "TOTAL", **summary["totals"]}]:
        print(
            f"{row['operation']:<30}{row['calls']:>6}{row['input_tokens']:>9}{row['output_tokens']:>9}"
            f"{row['cost_usd']:>12.6f}{row['latency_p50_s'] * 1000:>9.1f}{row['latency_p95_s'] * 1000:>9.1f}"
            f"{row['errors']:>8}{row['retries']:>8}"
        )


def draw_chart(summary: dict[str, Any], path: Path) -> None:
    """Cost and latency per operation, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summary["rows"]
    names = [r["operation"] for r in rows]
    fig, (cost_ax, latency_ax) = plt.subplots(1, 2, figsize=(13, 6), sharey=True)
    cost_ax.barh(names, [r["cost_usd"] * 1_000_000 for r in rows], color="#1d4aff")
    cost_ax.set_xlabel("cost per operation (millionths of a USD)")
    cost_ax.invert_yaxis()
    positions = range(len(rows))
    latency_ax.barh([p - 0.2 for p in positions], [r["latency_p50_s"] * 1000 for r in rows], 0.4, label="p50")
    latency_ax.barh([p + 0.2 for p in positions], [r["latency_p95_s"] * 1000 for r in rows], 0.4, label="p95")
    latency_ax.set_xlabel("Bedrock call latency (ms)")
    latency_ax.legend()
    totals = summary["totals"]
    fig.suptitle(
        f"$ai_generation events: {totals['calls']} calls, {totals['input_tokens'] + totals['output_tokens']} tokens, "
        f"{totals['cost_usd']:.6f} USD, {totals['retries']} retries, {totals['errors']} errors"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def brief(value: Any, width: int = 110) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def run_operations(
    api: AppSyncOffline, bedrock: BedrockStandIn, sample_events: list[dict[str, Any]], rounds: int
) -> int:
    """Run every sample event ``rounds`` times through the API; print progress; return the number of failures."""
    count = len(sample_events)
    failures = 0
    for round_number in range(1, rounds + 1):
        if round_number > 1:
            print(f"round {round_number}/{rounds}: ", end="", flush=True)
        for number, event in enumerate(sample_events, start=1):
            field = event["info"]["fieldName"]
            if field == THROTTLED_OPERATION and round_number == 1:
                bedrock.inject("ThrottlingException", times=1)
            api.identity = event["identity"]
            started = time.monotonic()
            answer = api.execute(query_for(api.schema, field, event["arguments"]), event["arguments"])
            elapsed = time.monotonic() - started
            ok = not answer.get("errors")
            failures += not ok
            if round_number == 1:
                shown = answer["data"][field] if ok and answer["data"] else answer.get("errors")
                status = "ok " if ok else "ERR"
                print(f"[{number:>2}/{count}] {field:<28} {status} {elapsed:5.2f} s  {brief(shown)}")
            else:
                print("." if ok else "E", end="", flush=True)
        if round_number > 1:
            print()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo", help="where to write the files")
    parser.add_argument("--rounds", type=int, default=3, help="how many times to run every operation (default 3)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    events_log = out / "events.jsonl"
    events_log.unlink(missing_ok=True)

    specs = read_functions()
    with BedrockStandIn(latency=0.02) as bedrock, PostHogSink(events_path=events_log) as sink:
        # What a deployed function gets from the template, pointed at the stand-ins, with throwaway credentials.
        os.environ.update(lambda_environment(next(iter(specs.values())), environ={}))
        os.environ.update(loopback_environment(bedrock_url=bedrock.endpoint_url, posthog_host=sink.host))
        os.environ.update(
            {
                # The demo's own lines tell the story: no INFO logs, no CloudWatch EMF metrics on stdout.
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        sample_events = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))]
        schema = build_schema(SCHEMA.read_text())
        order = list(schema.query_type.fields) if schema.query_type else []
        sample_events.sort(key=lambda e: order.index(e["info"]["fieldName"]))
        handlers = {
            e["info"]["fieldName"]: load_handler(specs[snake_case(e["info"]["fieldName"])]) for e in sample_events
        }
        api = AppSyncOffline(SCHEMA, handlers)

        print(f"Bedrock stand-in {bedrock.endpoint_url}, PostHog stand-in {sink.host}, model {os.environ['MODEL_ID']}")
        print(f"Running {len(sample_events)} operations as AppSync calls them", end=" ")
        print(f"({THROTTLED_OPERATION} is throttled once, to show a retry):\n")
        failures = run_operations(api, bedrock, sample_events, args.rounds)
        generations = sink.events_named("$ai_generation")

    summary = summarize(generations)
    print_summary(summary)
    (out / "events.json").write_text(json.dumps(generations, indent=2, ensure_ascii=False, default=str))
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    draw_chart(summary, out / "summary.png")
    succeeded = len(sample_events) * args.rounds - failures
    print(f"\nWrote {out / 'events.json'} ({len(generations)} events), {out / 'summary.json'}, {out / 'summary.png'}")
    runs = len(sample_events) * args.rounds
    print(f"demo: {succeeded}/{runs} operation runs succeeded, {len(generations)} events delivered to PostHog")

    return 0 if failures == 0 and summary["totals"]["operations"] == len(sample_events) else 1


if __name__ == "__main__":
    sys.exit(main())
