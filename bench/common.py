"""What the benchmarks share: the project's paths, a clean environment, the loopback stand-ins as subprocesses,
robust statistics, and the report each script prints (one ``name.figure value`` line per figure) and saves.

The machine these run on is small and shared: every figure is a median (or a ratio of medians) over many
interleaved samples, never one timing. The stand-ins run in their own processes so that their work does not
compete with the measured code for the GIL.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
# Where Lambda puts the layers' and the function's code: the task root first, then the layers.
PROJECT_PATHS = (ROOT, ROOT / "layer", ROOT / "domain")
sys.path[:0] = [str(path) for path in PROJECT_PATHS if str(path) not in sys.path]

from tracked_bedrock.settings import ENVIRONMENT_VARIABLES  # noqa: E402

# Every variable the layer reads, and the AWS ones that could point boto3 elsewhere, so a developer's shell never
# leaks into a figure (the same list as tests/conftest.py).
LAYER_VARIABLES = (
    *ENVIRONMENT_VARIABLES,
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
)
# Dummy credentials and a region: boto3 signs requests, nothing ever leaves loopback.
BENCH_ENV: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
}
BENCH_API_KEY = "phc_bench_key"


def add_project_paths() -> None:
    """Make ``tracked_bedrock``, ``cv_domain`` and ``loopback`` importable, as pytest's ``pythonpath`` does."""
    for path in reversed(PROJECT_PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def clean_environment(base: Mapping[str, str] | None = None, /, **extra: str) -> dict[str, str]:
    """``base`` (default: this process's environment) without the layer's variables, plus the bench's."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in LAYER_VARIABLES}
    env.update(BENCH_ENV)
    env.update(extra)
    return env


def prepare_environment(**extra: str) -> None:
    """Set this process's environment as :func:`clean_environment` says (before importing the layer: its
    logger reads ``POWERTOOLS_SERVICE_NAME`` at import)."""
    wanted = clean_environment(**extra)
    for name in set(os.environ) - set(wanted):
        del os.environ[name]
    os.environ.update(wanted)
    add_project_paths()


# --------------------------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


@dataclass(frozen=True, slots=True)
class Stats:
    """Order statistics of one set of samples (in the samples' unit)."""

    n: int
    median: float
    p90: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Self:
        return cls(len(values), statistics.median(values), percentile(values, 90), min(values), max(values))

    def as_dict(self, digits: int = 1) -> dict[str, float | int]:
        return {
            "n": self.n,
            "median": round(self.median, digits),
            "p90": round(self.p90, digits),
            "min": round(self.minimum, digits),
            "max": round(self.maximum, digits),
        }


# --------------------------------------------------------------------------------------------- machine and report


def machine() -> dict[str, Any]:
    """What the figures came from: core count, CPU model, Python, load at the time."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def results_path(name: str, quick: bool = False) -> Path:
    """Where a benchmark's results are saved."""
    return (RESULTS / "quick" if quick else RESULTS) / f"{name}.json"


@dataclass
class Report:
    """The figures of one benchmark: printed as ``<name>.<figure> <value>`` lines, saved as JSON."""

    name: str
    #: A smoke run: its results go to ``bench/results/quick/`` (not committed), not over the real figures.
    quick: bool = False
    figures: dict[str, float | int | str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def figure(self, key: str, value: float | int | str, note: str = "") -> None:
        """Record one figure and print its summary line (``note`` is printed after it, for the reader)."""
        if isinstance(value, float):
            value = round(value, 3)
        self.figures[key] = value
        print(f"{self.name}.{key} {value}{f'  # {note}' if note else ''}", flush=True)

    def write(self) -> Path:
        """Save ``bench/results/<name>.json`` (``results/quick/`` for a smoke run); returns its path."""
        path = results_path(self.name, self.quick)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "benchmark": self.name,
            "quick": self.quick,
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "machine": machine(),
            "figures": self.figures,
            "details": self.details,
        }
        path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
        print(f"# {self.name}: results written to {path.relative_to(ROOT)}", flush=True)
        return path


@contextmanager
def quiet_stdout(*, stderr: bool = False) -> Iterator[None]:
    """Send file descriptor 1 (and 2 with ``stderr``) to /dev/null: the layer's log lines and EMF blobs cost
    their formatting and one write each, not a terminal's rendering. Figures are printed after it ends."""
    fds = (1, 2) if stderr else (1,)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in fds}
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(devnull, fd)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


# --------------------------------------------------------------------------------------------- stand-ins


class StandIn:
    """A loopback stand-in (``python -m loopback.bedrock`` or ``loopback.posthog``) in its own process.

    The first line it prints is its address (a URL for Bedrock, a JSON object for PostHog).
    """

    def __init__(self, module: str, *args: str) -> None:
        self.command = [PYTHON, "-m", module, *args]
        self.process: subprocess.Popen[str] | None = None
        self.first_line = ""

    def __enter__(self) -> Self:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=clean_environment(PYTHONPATH=str(ROOT)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().strip()
        if not self.first_line:
            self.__exit__()
            raise RuntimeError(f"{' '.join(self.command)} did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class BedrockProcess(StandIn):
    """The Bedrock Runtime stand-in; :attr:`endpoint_url` goes in ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``."""

    def __init__(self) -> None:
        super().__init__("loopback.bedrock")

    @property
    def endpoint_url(self) -> str:
        return self.first_line


class PostHogProcess(StandIn):
    """The PostHog capture stand-in, with an admin listener that stays up in every mode."""

    def __init__(self) -> None:
        super().__init__("loopback.posthog", "--port", "0", "--admin-port", "0")

    @property
    def host(self) -> str:
        return str(json.loads(self.first_line)["host"])

    @property
    def admin_url(self) -> str:
        return str(json.loads(self.first_line)["admin"])

    def _admin(self, method: str, action: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.admin_url}/_standin/{action}",
            data=json.dumps(body or {}).encode() if method == "POST" else None,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read() or b"null")

    def set_mode(self, mode: str, **options: float | int) -> None:
        """Switch the failure mode (``ok``, ``error``, ``refuse``, ``reset``, ``hang``, ``slow``, ``trickle``)."""
        self._admin("POST", "mode", {"mode": mode, **options})

    def reset(self) -> None:
        self._admin("POST", "reset")

    def state(self) -> dict[str, Any]:
        """Mode, counters (``events``, ``requests``, ``attempts``) as the sink reports them."""
        state: dict[str, Any] = self._admin("GET", "state")
        return state
