"""Replay PostHog events that the layer could not deliver, from the function logs.

The layer writes each undelivered event as a JSON log line carrying ``posthog_undelivered_event``. Feed this
script those lines (files, or stdin), e.g. from CloudWatch Logs (all twelve functions log to one group, the
stack's ``FunctionsLogGroupName`` output):

    aws logs filter-log-events --log-group-name <FunctionsLogGroupName> \
        --filter-pattern '{ $.posthog_undelivered_event.event = "$ai_generation" }' \
        --query 'events[].message' --output text | python scripts/replay_undelivered.py -

It posts them with the same posthog transport the layer uses. Events keep their original uuid and timestamp,
and PostHog de-duplicates on the uuid, so replaying a line twice does not count an event twice.
Needs POSTHOG_API_KEY (and POSTHOG_HOST unless you use the EU cloud).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

UNDELIVERED_KEY = "posthog_undelivered_event"
BATCH_SIZE = 100


def undelivered_events(lines: Iterable[str], unreadable: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Events found in log lines; a line may carry a prefix (timestamp, request id) before its JSON.

    Lines that name the key but cannot be read (cut by a log pipeline, say) are appended to ``unreadable``.
    """
    seen: set[str] = set()
    for line in lines:
        if UNDELIVERED_KEY not in line:
            continue
        start = line.find("{")
        try:
            record = json.loads(line[start:]) if start >= 0 else None
        except json.JSONDecodeError:
            record = None
        event = record.get(UNDELIVERED_KEY) if isinstance(record, dict) else None
        if not isinstance(event, dict):
            if unreadable is not None:
                unreadable.append(line.rstrip("\n"))
            continue
        if event.get("uuid") not in seen:
            seen.add(str(event.get("uuid")))
            yield event


def replay(events: list[dict[str, Any]], api_key: str, host: str, timeout: float = 10.0) -> int:
    """Post ``events`` in batches; returns how many were accepted. Raises on the first failed batch."""
    from posthog.request import batch_post

    sent = 0
    for start in range(0, len(events), BATCH_SIZE):
        batch = events[start : start + BATCH_SIZE]
        batch_post(api_key, host=host, timeout=timeout, batch=batch, historical_migration=False)
        sent += len(batch)
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="log files, or - for standard input")
    parser.add_argument("--dry-run", action="store_true", help="only count the events found")
    args = parser.parse_args(argv)
    events: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for name in args.logs:
        stream = sys.stdin if name == "-" else open(name, encoding="utf-8")  # noqa: SIM115
        with stream:
            events.extend(undelivered_events(stream, unreadable))
    print(f"found {len(events)} undelivered events")
    for line in unreadable:
        print(f"could not read an undelivered event from: {line[:200]}", file=sys.stderr)
    if unreadable:
        print(f"{len(unreadable)} log lines name an undelivered event but could not be read", file=sys.stderr)
    if args.dry_run or not events:
        return 1 if unreadable else 0
    api_key = os.environ.get("POSTHOG_API_KEY", "")
    if not api_key:
        print("POSTHOG_API_KEY is not set", file=sys.stderr)
        return 2
    host = os.environ.get("POSTHOG_HOST") or "https://eu.i.posthog.com"
    sent = replay(events, api_key, host)
    print(f"replayed {sent} events to {host}")
    return 1 if unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
