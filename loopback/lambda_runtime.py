"""A real Python runtime process -- ``python -m awslambdaric <handler>`` -- serving a ``LambdaApiStandIn``.

The process gets the environment Lambda's python3.x runtime gives a function (names from
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime), with the
stand-in's address in ``AWS_LAMBDA_RUNTIME_API``; what it prints is collected for the test to read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Self

from loopback.lambda_api import LambdaApiStandIn

# Variables of the developer's shell that would change what the runtime or boto3 does; Lambda sets its own.
_DROPPED_PREFIXES = ("AWS_", "LAMBDA_", "_HANDLER", "_X_AMZN_", "_LAMBDA_", "PYTHONPATH")


class LambdaRuntime:
    """Start the runtime on ``__enter__``, stop it on ``__exit__`` (SIGTERM, then SIGKILL after ``stop_timeout_s``).

    Example::

        with LambdaApiStandIn(handler="app.handler") as api, LambdaRuntime(api, tmp_path) as runtime:
            runtime.wait_ready()
            assert api.invoke({"x": 1}).response == ...
    """

    def __init__(
        self,
        api: LambdaApiStandIn,
        task_root: Path,
        *,
        handler: str | None = None,
        python_paths: Iterable[Path] = (),
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        stop_timeout_s: float = 2.0,
    ) -> None:
        """
        Args:
            task_root: the function's code (``LAMBDA_TASK_ROOT``, and the process's working directory).
            handler: ``module.function``; by default the stand-in's ``handler``.
            python_paths: more import roots after the task root, e.g. layers' ``python`` folders.
            env: more variables (the function's configuration); they win over the defaults.
        """
        self.api = api
        self.task_root = Path(task_root)
        self.handler = handler or api.handler
        self.python = python
        self.stop_timeout_s = stop_timeout_s
        self.env = self._environment(list(python_paths), env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self._readers: list[threading.Thread] = []

    def _environment(self, python_paths: list[Path], extra: Mapping[str, str]) -> dict[str, str]:
        api = self.api
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        stream = f"{time.strftime('%Y/%m/%d')}/[{api.function_version}]{uuid.uuid4().hex}"
        return {
            **inherited,
            "AWS_LAMBDA_RUNTIME_API": api.address,
            # As in Lambda's own runtime: with it, awslambdaric polls `next` in a thread, so the main thread can
            # take signals (SIGTERM at shutdown).
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_LAMBDA_FUNCTION_NAME": api.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": api.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(api.memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{api.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": api.region,
            "AWS_DEFAULT_REGION": api.region,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "_HANDLER": self.handler,
            "PYTHONPATH": os.pathsep.join(str(p) for p in [self.task_root, *python_paths]),
            "TZ": ":UTC",
            # Not set by Lambda; keeps output written before awslambdaric's own unbuffering (import errors).
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    # -- lifecycle --------------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the process and hand it to the stand-in (which signals it at shutdown)."""
        self.process = subprocess.Popen(
            [self.python, "-m", "awslambdaric", self.handler],
            cwd=self.task_root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        for stream, sink in ((self.process.stdout, self._stdout), (self.process.stderr, self._stderr)):
            reader = threading.Thread(target=self._drain, args=(stream, sink), daemon=True, name="runtime-output")
            reader.start()
            self._readers.append(reader)
        self.api.attach_runtime(self.process)

    @staticmethod
    def _drain(stream: IO[bytes], sink: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            sink.append(line)
        stream.close()

    def wait_ready(self, timeout_s: float = 10.0) -> Self:
        """Block until the Init phase is over (runtime and extensions in ``next``); raise with the process's output
        if it exits or reports an init error first."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.api.wait_initialized(timeout_s=0.05)
                return self
            except TimeoutError:
                pass
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}\n--- runtime output ---\n{self.output}") from exc
            if self.returncode is not None:
                raise RuntimeError(f"runtime exited with {self.returncode} during init\n{self.output}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"runtime not ready within {timeout_s} s\n{self.output}")

    def stop(self) -> int | None:
        """Stop the process if it still runs; return its exit code. The stand-in is told first, so this does not
        count as a crash."""
        process = self.process
        if process is None:
            return None
        self.api.detach_runtime()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for reader in self._readers:
            reader.join(timeout=2.0)
        return process.returncode

    # -- what it said -----------------------------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def stdout(self) -> str:
        """Everything the process wrote to stdout so far (awslambdaric's log lines included)."""
        return b"".join(self._stdout).decode(errors="replace")

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    @property
    def output(self) -> str:
        """stdout and stderr, for failure messages."""
        return f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
