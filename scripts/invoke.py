"""``make invoke FN=generateCv [EVENT=events/generate_cv.json]``: run one handler in-process, as Lambda runs it.

The function's folder is the task root, both layers' packages are on the path (as under /opt/python), and the
environment is the template's (``loopback.runner``). By default Bedrock and PostHog are the loopback stand-ins.
Set ``MODEL_ID`` *and* AWS credentials to call real Bedrock, and ``POSTHOG_API_KEY`` (plus ``POSTHOG_HOST`` for
the US cloud) to send the events to your PostHog project.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layer"), str(ROOT / "domain")]

from loopback.bedrock import BedrockStandIn  # noqa: E402
from loopback.context import LambdaContext  # noqa: E402
from loopback.posthog import PostHogSink  # noqa: E402
from loopback.runner import lambda_environment, load_handler, loopback_environment, read_functions, snake_case  # noqa: E402


def camel_case(folder: str) -> str:
    """``generate_cv`` -> ``generateCv``."""
    first, *rest = folder.split("_")
    return first + "".join(part.title() for part in rest)


def real_aws_requested() -> bool:
    """Real Bedrock only when the user says which model and has credentials: never by accident."""
    if not os.environ.get("MODEL_ID"):
        return False
    import boto3

    return boto3.Session().get_credentials() is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("function", help="the GraphQL field (generateCv) or the folder name (generate_cv)")
    parser.add_argument("--event", type=Path, help="the event file (default: events/<folder>.json)")
    args = parser.parse_args(argv)

    specs = read_functions()
    name = snake_case(args.function)
    if name not in specs:
        known = ", ".join(camel_case(folder) for folder in sorted(specs))
        print(f"unknown function {args.function!r}; known: {known}", file=sys.stderr)
        return 2
    spec = specs[name]
    event_path: Path = args.event or ROOT / "events" / f"{name}.json"
    if not event_path.is_file():
        print(f"no event file at {event_path}", file=sys.stderr)
        return 2
    event: dict[str, Any] = json.loads(event_path.read_text(encoding="utf-8"))

    env = lambda_environment(spec)
    with ExitStack() as stack:
        if real_aws_requested():
            print(f"Bedrock: real, model {env['MODEL_ID']} in {os.environ.get('AWS_REGION', 'the default region')}")
        else:
            bedrock = stack.enter_context(BedrockStandIn())
            env.update(loopback_environment(bedrock_url=bedrock.endpoint_url))
            print(f"Bedrock: loopback stand-in at {bedrock.endpoint_url} (set MODEL_ID and AWS credentials for real)")
        sink = None
        if os.environ.get("POSTHOG_API_KEY"):
            print(f"PostHog: {env['POSTHOG_HOST']}")
        else:
            sink = stack.enter_context(PostHogSink())
            env.update(loopback_environment(posthog_host=sink.host))
            print(f"PostHog: loopback stand-in at {sink.host} (set POSTHOG_API_KEY for your project)")
        os.environ.update(env)

        print(f"Invoking {spec.logical_id} ({spec.folder.relative_to(ROOT)}/{spec.handler}) with {event_path.name}\n")
        handler = load_handler(spec)
        started = time.monotonic()
        try:
            result = handler(event, LambdaContext(function_name=spec.logical_id))
        except Exception as exc:  # shown as AppSync would show it
            print(f"\nError (AppSync: errorType Lambda:Unhandled): {exc}")
            return 1
        finally:
            elapsed = time.monotonic() - started
        print(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"\nHandler returned in {elapsed:.2f} s")
        if sink is not None:
            for captured in sink.events_named("$ai_generation"):
                props = captured["properties"]
                print(
                    f"$ai_generation: operation={props['operation']} trace={props['$ai_trace_id']} "
                    f"tokens={props['$ai_input_tokens']}+{props['$ai_output_tokens']} "
                    f"cost={props.get('$ai_total_cost_usd', 0):.6f} USD latency={props['$ai_latency'] * 1000:.1f} ms "
                    f"retries={props['bedrock_retry_attempts']} error={props['$ai_is_error']}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
