"""Drill-only fixtures. The shared ones (``bedrock``, ``posthog``, a clean environment) come from tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.drills.drill_support import FIELDS, handler


@pytest.fixture(scope="session", autouse=True)
def warm_handlers() -> None:
    """Import the twelve handlers once, before any drill measures time: the drills run in a warm environment.

    The layer imports the posthog transport on its first delivery, inside the delivery budget (0.2-0.3 s here);
    a drill run alone would otherwise spend its 0.2-0.5 s budget on that import.
    """
    import posthog.request  # noqa: F401

    for field in FIELDS:
        handler(field)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> int:
    """Two attempts in all: botocore's backoff before a retry sleeps up to 1 s, keep the drills fast."""
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", "2")
    return 2
