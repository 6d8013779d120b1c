"""The newcomer's commands: ``make invoke`` for every function and ``make demo``, run in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from loopback.runner import read_functions
from scripts import demo, invoke

FOLDERS = sorted(read_functions())


@pytest.fixture(autouse=True)
def scripts_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The scripts configure os.environ the way Lambda would; keep that inside the test.
    monkeypatch.setattr(os, "environ", os.environ.copy())


@pytest.mark.parametrize("folder", FOLDERS)
def test_invoke_runs_every_function_on_its_sample_event(folder: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke.main([folder]) == 0
    out = capsys.readouterr().out
    assert "loopback stand-in" in out
    assert out.count("$ai_generation: operation=") >= 1
    assert "error=False" in out


def test_invoke_accepts_the_graphql_field_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke.main(["generateCv"]) == 0
    assert "GenerateCvFunction" in capsys.readouterr().out


def test_invoke_names_the_known_functions_for_an_unknown_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke.main(["generateHaiku"]) == 2
    err = capsys.readouterr().err
    assert "unknown function 'generateHaiku'" in err
    assert "generateCoverLetter" in err


def test_demo_runs_all_operations_and_writes_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--out", str(tmp_path), "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "demo: 24/24 operation runs succeeded, 24 events delivered to PostHog" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"]["operations"] == len(FOLDERS)
    assert summary["totals"]["calls"] == 24
    assert summary["totals"]["retries"] == 1  # the throttled call
    assert summary["totals"]["cost_usd"] > 0
    events = json.loads((tmp_path / "events.json").read_text())
    assert len(events) == 24
    assert all(event["event"] == "$ai_generation" for event in events)
    assert (tmp_path / "summary.png").read_bytes().startswith(b"\x89PNG")
