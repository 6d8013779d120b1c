"""The tracked Bedrock client: every Bedrock call measured (tokens, cost, latency, retries, errors) and reported
to PostHog LLM analytics, without slowing or breaking the operation that makes it.

Generic: it knows nothing of the operations that use it.
"""

from .bedrock import invoke_bedrock
from .errors import (
    BedrockCallError,
    DeadlineError,
    IncompleteOutputError,
    InvalidInputError,
    SettingsError,
    StructuredOutputError,
    TrackedBedrockError,
)
from .handler import appsync_operation, as_data, validate_arguments
from .invocation import current_invocation, track_invocation, tracked_invocation
from .settings import Settings, get_settings

__all__ = [
    "BedrockCallError",
    "DeadlineError",
    "IncompleteOutputError",
    "InvalidInputError",
    "Settings",
    "SettingsError",
    "StructuredOutputError",
    "TrackedBedrockError",
    "appsync_operation",
    "as_data",
    "current_invocation",
    "get_settings",
    "invoke_bedrock",
    "track_invocation",
    "tracked_invocation",
    "validate_arguments",
]
