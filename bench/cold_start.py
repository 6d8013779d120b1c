"""Cold start: what Lambda's init pays to import a handler and create its Bedrock client, against a bare
``import boto3; boto3.client("bedrock-runtime")``.

Each sample is a fresh interpreter. Its ``sys.path`` is laid out as Lambda's: the task root
(``functions/parse_cv_text``), then the layers (``layer/``, ``domain/`` and the layer's third-party packages),
then the runtime's own packages (boto3, botocore and their dependencies). The packages come from the project's
virtual environment through symlinks into two temporary folders, one per role, and the interpreter runs without
``site`` (``-S``), so nothing else of the virtual environment is visible: pydantic's plugin discovery scans
only what Lambda would have. The environment is the function's, from ``template.yaml`` (``loopback.runner``).

Two bytecode situations, each with its own ``PYTHONPYCACHEPREFIX`` (nothing is written during the timed runs):

``cached``
    Every module has its bytecode: like for like with the baseline.
``layer_uncompiled``
    The standard library and the runtime's packages have bytecode; the layers and the function do not. That is
    what Lambda runs today: ``sam build`` ships no ``.pyc`` files, and ``/opt`` and ``/var/task`` are read-only,
    so Python compiles every layer module it imports at every cold start (assumption: the runtime's own boto3
    is precompiled, as a Python installation's standard library is).

Runs are interleaved (baseline, handler, handler uncompiled, baseline, ...); figures are medians. One
``-X importtime`` run lists the costliest imports. When a ratio is over the target, imports that could be
deferred are timed by importing each before the clock starts (what the handler's import would save).

Run: ``.venv/bin/python bench/cold_start.py [--runs 15] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import common

NAME = "cold_start"
FUNCTION = "parse_cv_text"
TARGET_RATIO = 1.6
# What the Lambda python3.13 runtime ships besides the standard library: boto3 and its dependencies.
RUNTIME_REQUIREMENTS = ("boto3",)

BASELINE_CODE = """
import json, time
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
boto3.client("bedrock-runtime")
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "client_ms": (t2 - t1) * 1e3, "total_ms": (t2 - t0) * 1e3}))
"""

# Lambda's bootstrap puts the task root first and imports the handler's module by name. BENCH_STUB names packages
# replaced by empty stand-ins before the clock starts: what the handler's init costs without them.
HANDLER_CODE = """
import importlib, json, os, sys, time
sys.path.insert(0, os.environ["BENCH_TASK_ROOT"])
stubs = tuple(filter(None, os.environ.get("BENCH_STUB", "").split(",")))
if stubs:
    import importlib.abc, importlib.machinery, types

    class Anything:
        def __call__(self, *args, **kwargs):
            return args[0] if len(args) == 1 and callable(args[0]) and not kwargs else self

        def __getattr__(self, name):
            return self

    class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name in stubs or name.startswith(tuple(stub + "." for stub in stubs)):
                return importlib.machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            module = types.ModuleType(spec.name)
            module.__path__ = []
            module.__getattr__ = lambda attribute: Anything()
            return module

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, StubFinder())
t0 = time.perf_counter()
# As importlib.import_module("app") (Lambda's way), but through the builtin, which -X importtime reports.
handler = __import__("app").lambda_handler
t1 = time.perf_counter()
from tracked_bedrock.clients import bedrock_client
bedrock_client()
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "client_ms": (t2 - t1) * 1e3, "total_ms": (t2 - t0) * 1e3}))
"""


# --------------------------------------------------------------------------------------------- a Lambda-like path


def _closure(requirements: Iterable[str]) -> set[str]:
    """Installed distributions needed by ``requirements`` (extras and inapplicable markers left out)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        pending.extend(Requirement(line) for line in dist.requires or [])
    return seen


def _top_level_entries(dist_name: str) -> set[Path]:
    """The files and folders a distribution puts at the top of site-packages (its packages, its .dist-info)."""
    dist = metadata.distribution(dist_name)
    entries: set[Path] = set()
    for file in dist.files or []:
        first = Path(file).parts[0]
        if first in ("..", "__pycache__", "bin"):
            continue
        entries.add(Path(str(dist.locate_file(first))))
    return entries


def _requirement_lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


@dataclass
class LambdaSite:
    """Two folders of symlinks into the virtual environment: the layer's packages and the runtime's."""

    root: Path

    @property
    def layer(self) -> Path:
        return self.root / "opt-python"

    @property
    def runtime(self) -> Path:
        return self.root / "var-runtime"

    def build(self) -> dict[str, list[str]]:
        layer_dists = _closure(_requirement_lines(common.ROOT / "layer" / "requirements.txt"))
        runtime_dists = _closure(RUNTIME_REQUIREMENTS)
        for folder, dists in ((self.layer, layer_dists), (self.runtime, runtime_dists)):
            folder.mkdir(parents=True)
            for dist in sorted(dists):
                for entry in _top_level_entries(dist):
                    (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        return {"layer": sorted(layer_dists), "runtime": sorted(runtime_dists)}

    def uncompiled_sources(self) -> tuple[Path, ...]:
        """Where the code Lambda cannot keep bytecode for lives: the layers and the function."""
        return (self.layer, common.ROOT / "layer", common.ROOT / "domain", common.ROOT / "functions")

    def pythonpath(self, handler: bool) -> str:
        paths = [self.layer, common.ROOT / "layer", common.ROOT / "domain", self.runtime] if handler else [self.runtime]
        return os.pathsep.join(str(path) for path in paths)


# --------------------------------------------------------------------------------------------- child processes


@dataclass
class Runner:
    """Starts the timed child processes with the function's environment and a given bytecode cache."""

    site: LambdaSite
    environment: dict[str, str]
    task_root: Path

    def env(self, *, handler: bool, cache: Path, write_bytecode: bool, stub: str = "") -> dict[str, str]:
        env = dict(self.environment)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if not write_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(cache)
        env["PYTHONPATH"] = self.site.pythonpath(handler)
        env["BENCH_TASK_ROOT"] = str(self.task_root)
        env["BENCH_STUB"] = stub
        return env

    def run(
        self, *, handler: bool, cache: Path, write_bytecode: bool = False, stub: str = "", extra: str = ""
    ) -> dict[str, float]:
        """One fresh interpreter; its timings (ms) plus the whole process's wall time."""
        env = self.env(handler=handler, cache=cache, write_bytecode=write_bytecode, stub=stub)
        if extra:
            key, _, value = extra.partition("=")
            env[key] = value
        started = time.perf_counter()
        done = subprocess.run(
            [common.PYTHON, "-S", "-c", HANDLER_CODE if handler else BASELINE_CODE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        wall_ms = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
        timings: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        timings["process_ms"] = wall_ms
        return timings

    def importtime(self, cache: Path) -> str:
        env = self.env(handler=True, cache=cache, write_bytecode=False)
        done = subprocess.run(
            [common.PYTHON, "-S", "-X", "importtime", "-c", HANDLER_CODE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stderr


def prepare_caches(runner: Runner, work: Path) -> tuple[Path, Path, int]:
    """A bytecode cache for everything, and a copy without the layers' and the function's bytecode; and the
    bytes of the bytecode left out (what shipping only the modules imported at init would add)."""
    cached, uncompiled = work / "pyc-cached", work / "pyc-layer-uncompiled"
    for handler in (False, True):
        runner.run(handler=handler, cache=cached, write_bytecode=True)
    shutil.copytree(cached, uncompiled)
    removed: list[Path] = []
    for source_root in runner.site.uncompiled_sources():
        mirrored = uncompiled / str(source_root).lstrip(os.sep)
        if mirrored.exists():
            removed.extend(mirrored.rglob("*.pyc"))
    if not removed:
        raise RuntimeError("no layer bytecode found in the cache: PYTHONPYCACHEPREFIX layout changed?")
    removed_bytes = sum(path.stat().st_size for path in removed)
    for path in removed:
        path.unlink()
    return cached, uncompiled, removed_bytes


# --------------------------------------------------------------------------------------------- importtime


def parse_importtime(text: str, until: str = "app") -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) for each line of ``-X importtime`` output, up to the line of ``until``
    (the handler's module: what follows is the client's creation)."""
    rows = []
    for line in text.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            rows.append((match[3], int(match[1]), int(match[2])))
            if match[3] == until:
                break
    return rows


def top_imports(rows: list[tuple[str, int, int]], count: int = 10) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The ``count`` largest cumulative import times, and self time summed by top-level package (ms)."""
    ranked = sorted(rows, key=lambda row: row[2], reverse=True)[:count]
    top = [
        {"module": name, "cumulative_ms": round(cum / 1000, 1), "self_ms": round(own / 1000, 1)}
        for name, own, cum in ranked
    ]
    by_package: Counter[str] = Counter()
    for name, own, _ in rows:
        by_package[name.split(".")[0]] += own
    packages = {name: round(us / 1000, 1) for name, us in by_package.most_common(count)}
    return top, packages


# --------------------------------------------------------------------------------------------- deferral candidates

# What the handler's init could do without, each with the change it stands for: (name, how, why).
# ``urllib.request`` (extension.py) is not one: botocore imports it anyway when the client is created, and
# ``aws_lambda_powertools.metrics`` alone is not either: Powertools' package __init__ imports Logger, Metrics
# and Tracer whichever one is asked for.
CANDIDATES: tuple[tuple[str, str, str], ...] = (
    (
        "control",
        "stub:bench_no_such_package",
        "the stub machinery alone, stubbing nothing: its saving should be ~0 (the method's own bias and noise)",
    ),
    (
        "pydantic_plugin_scan",
        "env:PYDANTIC_DISABLE_PLUGINS=__all__",
        "pydantic scans every distribution's entry points for plugins when the first model is built; the "
        "variable (template Globals) skips the scan",
    ),
    (
        "powertools",
        "stub:aws_lambda_powertools",
        "the layer uses Powertools only for a JSON Logger (with inject_lambda_context) and EphemeralMetrics; a "
        "stdlib logging.Formatter writing JSON and a hand-built EMF line (logging and json are loaded by "
        "botocore anyway) would spare importing Powertools",
    ),
)


def measure_candidates(runner: Runner, cache: Path, runs: int) -> dict[str, dict[str, Any]]:
    """For each candidate: the handler's init total with and without it (ms), and the saving as the median of
    same-round differences, also net of the control's (the stub machinery's own effect and the noise)."""
    names = ("reference", *(name for name, _, _ in CANDIDATES))
    how = {name: spec for name, spec, _ in CANDIDATES}
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            kind, _, value = how.get(name, "").partition(":")
            timing = runner.run(
                handler=True, cache=cache, stub=value if kind == "stub" else "", extra=value if kind == "env" else ""
            )
            samples[name].append(timing["total_ms"])
    saving = {
        name: statistics.median(r - c for r, c in zip(samples["reference"], samples[name], strict=True))
        for name in names[1:]
    }
    return {
        name: {
            "how": spec,
            "why": why,
            "runs": runs,
            "handler_total_ms": round(statistics.median(samples["reference"]), 1),
            "handler_total_without_ms": round(statistics.median(samples[name]), 1),
            "saving_ms": round(saving[name], 1),
            "net_saving_ms": round(saving[name] - saving["control"], 1),
        }
        for name, spec, why in CANDIDATES
    }


# --------------------------------------------------------------------------------------------- main


def function_environment() -> dict[str, str]:
    """The function's variables from template.yaml, over a clean environment with an analytics key set."""
    from loopback.runner import lambda_environment, read_functions

    spec = read_functions()[FUNCTION]
    base = common.clean_environment(POSTHOG_API_KEY=common.BENCH_API_KEY)
    env: dict[str, str] = common.clean_environment(**lambda_environment(spec, environ=base))
    env.pop("PYTHONPATH", None)
    return env


def report_imports(report: common.Report, rows: list[tuple[str, int, int]], candidates: dict[str, Any]) -> None:
    """The importtime listing and the deferral candidates, as figures."""
    top, packages = top_imports(rows)
    report.details["importtime_top10_cumulative"] = top
    report.details["importtime_self_ms_by_package"] = packages
    print("# -X importtime of the handler module (bytecode cached): the 10 largest cumulative import times")
    for row in top:
        report.figure(f"importtime.cumulative_ms.{row['module']}", row["cumulative_ms"], f"self {row['self_ms']}")
    print("# -X importtime: self time summed by top-level package")
    for package, ms in packages.items():
        report.figure(f"importtime.self_ms_by_package.{package}", ms)

    report.details["deferral_candidates"] = candidates
    if candidates:
        print("# what the handler's init (bytecode cached) would save without each; net = minus the control's")
    for key, figures in candidates.items():
        report.figure(f"defer.{key}.saving_ms", figures["saving_ms"], figures["how"])
        if key != "control":
            report.figure(f"defer.{key}.net_saving_ms", figures["net_saving_ms"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per kind (default 15)")
    parser.add_argument("--candidate-runs", type=int, default=11, help="rounds of the deferral candidates (default 11)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 runs per kind, 2 rounds of candidates")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.candidate_runs = 3, 2

    common.add_project_paths()
    report = common.Report(NAME, quick=args.quick)
    environment = function_environment()
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as work_dir:
        work = Path(work_dir)
        site = LambdaSite(work / "site")
        report.details["distributions"] = site.build()
        runner = Runner(site, environment, common.ROOT / "functions" / FUNCTION)
        cached, uncompiled, init_bytecode = prepare_caches(runner, work)
        # kind: (a handler or the baseline, which bytecode cache)
        kinds: dict[str, tuple[bool, Path]] = {
            "baseline": (False, cached),
            "handler": (True, cached),
            "handler_layer_uncompiled": (True, uncompiled),
        }
        samples: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        for _ in range(args.runs):
            for kind, (handler, cache) in kinds.items():
                samples[kind].append(runner.run(handler=handler, cache=cache))
        rows = parse_importtime(runner.importtime(cached))
        medians = {
            kind: {key: statistics.median(s[key] for s in runs) for key in runs[0]} for kind, runs in samples.items()
        }
        ratio = medians["handler"]["total_ms"] / medians["baseline"]["total_ms"]
        per_round = [
            h["total_ms"] / b["total_ms"] for h, b in zip(samples["handler"], samples["baseline"], strict=True)
        ]
        ratio_uncompiled = medians["handler_layer_uncompiled"]["total_ms"] / medians["baseline"]["total_ms"]
        candidates: dict[str, dict[str, Any]] = {}
        if max(ratio, ratio_uncompiled) > TARGET_RATIO:
            candidates = measure_candidates(runner, cached, args.candidate_runs)

    report.details["runs"] = args.runs
    report.details["medians_ms"] = {kind: {k: round(v, 1) for k, v in m.items()} for kind, m in medians.items()}
    report.details["samples_total_ms"] = {
        kind: [round(s["total_ms"], 1) for s in runs] for kind, runs in samples.items()
    }
    for kind, figures in medians.items():
        for key in ("import_ms", "client_ms", "total_ms", "process_ms"):
            report.figure(f"{kind}.{key}", figures[key], f"median of {args.runs}" if key == "total_ms" else "")
    report.figure("ratio", ratio, f"handler / baseline, all bytecode cached; target < {TARGET_RATIO}")
    report.figure("ratio_per_round_median", statistics.median(per_round), "median of same-round ratios (less drift)")
    fastest = {kind: min(s["total_ms"] for s in runs) for kind, runs in samples.items()}
    report.figure(
        "ratio_of_minimums", fastest["handler"] / fastest["baseline"], "noise only adds time: the least disturbed runs"
    )
    report.figure("ratio_per_round_p10", common.percentile(per_round, 10))
    report.figure("ratio_per_round_p90", common.percentile(per_round, 90))
    report.figure("ratio_layer_uncompiled", ratio_uncompiled, "as sam build ships the layer (no .pyc)")
    saving = medians["handler_layer_uncompiled"]["total_ms"] - medians["handler"]["total_ms"]
    report.figure("precompile_saving_ms", saving, "shipping the layer's bytecode")
    report.figure("init_bytecode_kb", init_bytecode / 1000, "the layer's .pyc that init imports (size to ship them)")
    report.figure("target_met", "yes" if ratio < TARGET_RATIO else "no")
    report.figure("target_met_layer_uncompiled", "yes" if ratio_uncompiled < TARGET_RATIO else "no")

    report_imports(report, rows, candidates)
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
