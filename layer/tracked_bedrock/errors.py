"""Typed errors raised by the tracked client.

Every error says what went wrong and whether trying again later may help (``retryable``), so a resolver can
turn it into a useful GraphQL error instead of "Lambda:Unhandled: something failed".
"""

from __future__ import annotations


class TrackedBedrockError(Exception):
    """Base of every error the layer raises on purpose."""

    #: Short machine-readable name, put at the front of the message AppSync shows to the client.
    error_type = "TrackedBedrockError"
    #: Whether the same request may succeed later.
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.error_type}: {message}")
        self.detail = message


class SettingsError(TrackedBedrockError):
    """An environment variable has a value the layer cannot use; raised at start-up, naming the variable."""

    error_type = "SettingsError"


class InvalidInputError(TrackedBedrockError):
    """The operation's arguments failed validation; nothing was sent to Bedrock."""

    error_type = "InvalidInput"

    def __init__(self, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


class BedrockCallError(TrackedBedrockError):
    """Bedrock refused or failed the call (after botocore's retries, where the error is retryable)."""

    error_type = "BedrockCallError"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        http_status: int,
        retryable: bool,
        retry_attempts: int,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.retryable = retryable
        self.retry_attempts = retry_attempts
        self.request_id = request_id


class StructuredOutputError(TrackedBedrockError):
    """The model's answer did not validate against the requested schema, even after one corrective retry."""

    error_type = "StructuredOutputError"
    # A model's answer varies from call to call: the same request can validate next time.
    retryable = True

    def __init__(self, message: str, *, validation_errors: list[str]) -> None:
        super().__init__(message)
        self.validation_errors = validation_errors


class IncompleteOutputError(TrackedBedrockError):
    """The model stopped before a whole answer (token limit, guardrail, content filter)."""

    error_type = "IncompleteOutput"

    def __init__(self, stop_reason: str, *, max_tokens: int | None) -> None:
        hint = (
            f"the answer hit the token limit ({max_tokens}); shorten the input or raise the limit"
            if stop_reason == "max_tokens"
            else "the model did not produce a complete answer"
        )
        super().__init__(f"stopped with {stop_reason}: {hint}")
        self.stop_reason = stop_reason


class DeadlineError(TrackedBedrockError):
    """Too little of the Lambda invocation's time is left to make (or retry) a Bedrock call."""

    error_type = "DeadlineExceeded"
    retryable = True
