"""Run the four benchmarks, each in a fresh process, then print the headline figures against the issue's targets.

These are figures, not tests: a missed target does not fail the run; a benchmark that crashes does.

Run: ``make bench``, or ``.venv/bin/python bench/run_all.py [--quick] [--only delivery,cold_start]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass

import common

BENCHMARKS = (
    "tracking_overhead",
    "tracking_overhead_metrics_off",
    "delivery",
    "extension_delivery",
    "cold_start",
    "layer_size",
)
#: Benchmarks that are another run of a script, with arguments.
VARIANTS = {"tracking_overhead_metrics_off": ("tracking_overhead", ["--metrics-off"])}


@dataclass(frozen=True)
class Target:
    """One target of the issue, read from a benchmark's results, and the figure measuring a proposed fix."""

    label: str
    benchmark: str
    figure: str
    limit: float
    unit: str
    proposed: str | None = None
    proposal: str = ""


TARGETS = (
    Target(
        "tracking, extra per text call, EMF metrics on (median)",
        "tracking_overhead",
        "text.median_extra_us",
        500,
        "µs",
        "text.proposed_median_extra_us",
        "one hand-built EMF line instead of Powertools log line + metrics blob",
    ),
    Target(
        "tracking, extra per text call, as deployed by default (metrics off)",
        "tracking_overhead_metrics_off",
        "text.median_extra_us",
        500,
        "µs",
    ),
    Target(
        "tracking, extra per structured call, as deployed by default (metrics off)",
        "tracking_overhead_metrics_off",
        "structured.median_extra_us",
        500,
        "µs",
    ),
    Target(
        "tracking, extra per structured call, EMF metrics on (median)",
        "tracking_overhead",
        "structured.median_extra_us",
        500,
        "µs",
        "structured.proposed_median_extra_us",
        "the same one EMF line (tool_spec is cached since 9ecc46e)",
    ),
    Target("delivery, healthy sink (median, 1 or 3 events)", "delivery", "in_handler.healthy_median_ms", 10, "ms"),
    Target(
        "delivery, worst failure (budget 1.0 s)",
        "delivery",
        "in_handler.worst_failure_default_budget_ms",
        1000,
        "ms",
        None,
        "20 ms of the budget kept for logging since 9ecc46e (was budget + 1-4 ms)",
    ),
    Target(
        "cold start, handler / bare boto3 (layer without bytecode, as BuildMethod python3.13 shipped it)",
        "cold_start",
        "ratio_layer_uncompiled",
        1.6,
        "x",
        "ratio",
        "shipped: the layers' Makefiles compile unchecked-hash bytecode",
    ),
    Target("cold start, handler / bare boto3 (with bytecode, as the layers ship now)", "cold_start", "ratio", 1.6, "x"),
    Target(
        "layer, unzipped",
        "layer_size",
        "unzipped_mb",
        10,
        "MB",
        "without_tests_duplicates_posthog_powertools_mb",
        "drop posthog (a direct POST) and Powertools, their tests and the runtime duplicates",
    ),
)


def run(name: str, extra: list[str]) -> float:
    """Run one benchmark, its output passed through; returns its wall time in seconds."""
    print(f"\n=== {name} ===", flush=True)
    started = time.perf_counter()
    script, arguments = VARIANTS.get(name, (name, []))
    command = [common.PYTHON, str(common.ROOT / "bench" / f"{script}.py"), *arguments, *extra]
    subprocess.run(command, cwd=common.ROOT, check=True)
    return time.perf_counter() - started


def summary(names: list[str], seconds: dict[str, float], quick: bool) -> None:
    """The targets table, from the results files the benchmarks just wrote; also saved as results/summary.md."""
    machine = common.machine()
    heading = f"{machine['nproc']} cores, {machine['cpu_model']}, Python {machine['python']}"
    print(f"\n=== summary ({heading}) ===")
    rows = [
        f"Machine: {heading} ({machine['platform']}), {time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
        "| target | measured | verdict | with the proposed change |",
        "| --- | --- | --- | --- |",
    ]
    for target in TARGETS:
        if target.benchmark not in names:
            continue
        figures = json.loads(common.results_path(target.benchmark, quick).read_text())["figures"]
        value = figures.get(target.figure)
        if not isinstance(value, int | float):
            print(f"  {target.label}: missing ({target.benchmark}.{target.figure})")
            continue
        verdict = "met" if value < target.limit else "MISSED"
        proposed = figures.get(target.proposed) if target.proposed else None
        after = (
            f"{proposed:g} {target.unit}: {target.proposal}" if isinstance(proposed, int | float) else target.proposal
        )
        print(f"  {target.label}: {value:g} {target.unit} (target < {target.limit:g}) {verdict}")
        rows.append(
            f"| {target.label} < {target.limit:g} {target.unit} | {value:g} {target.unit} | {verdict} | {after} |"
        )
    total = sum(seconds.values())
    print("  run time: " + ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items()) + f"; total {total:.0f} s")
    if not quick and names == list(BENCHMARKS):
        (common.RESULTS / "summary.md").write_text("\n".join(rows) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke runs with small counts (figures not kept)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated, of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    seconds: dict[str, float] = {}
    for name in names:
        seconds[name] = run(name, ["--quick"] if args.quick else [])
    summary(names, seconds, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
