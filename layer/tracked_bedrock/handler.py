"""AppSync direct-resolver handlers in one line: validate the arguments, run the operation, track it.

Each function resolves exactly one GraphQL field, so no router is needed: Powertools' AppSyncResolver would add
~70 ms of imports to every cold start for a dispatch table of one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ValidationError

from .errors import InvalidInputError
from .extension import start_delivery_extension
from .invocation import tracked_invocation
from .observability import logger
from .structured import describe_errors

A = TypeVar("A", bound=BaseModel)
LambdaHandler = Callable[[dict[str, Any], Any], Any]

DATA_DELIMITER = "<<<{label}>>>\n{content}\n<<<end of {label}>>>"


def as_data(label: str, content: str) -> str:
    """Wrap untrusted text in delimiters that the system prompt tells the model to treat as data."""
    # The delimiter must not be forgeable from inside the content.
    safe = content.replace("<<<", "< < <").replace(">>>", "> > >")
    return DATA_DELIMITER.format(label=label, content=safe)


def validate_arguments(model: type[A], arguments: Any) -> A:
    """The GraphQL arguments as ``model``, or InvalidInputError naming every bad field."""
    try:
        return model.model_validate(arguments if arguments is not None else {})
    except ValidationError as exc:
        problems = describe_errors(exc)
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise InvalidInputError("; ".join(problems), fields=fields) from None


def appsync_operation(field_name: str, arguments: type[A], run: Callable[[A], BaseModel | str]) -> LambdaHandler:
    """Build the Lambda handler of one AppSync field.

    The arguments are validated before anything else (bad input never reaches Bedrock); ``run`` then executes
    inside a tracked invocation whose ``operation`` is ``field_name`` and whose analytics user is the caller's
    identity ``sub`` (none for API-key or IAM callers). A model result is returned as JSON by alias.
    """

    # Handlers are built at import, i.e. during Lambda's init phase: the only time an extension may register.
    start_delivery_extension()

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.APPSYNC_RESOLVER)
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        identity = event.get("identity") or {}
        user_id = identity.get("sub") if isinstance(identity, dict) else None
        # Validation happens inside the invocation so that the delivery path always sees it end.
        with tracked_invocation(field_name, user_id=user_id, context=context):
            requested = (event.get("info") or {}).get("fieldName")
            if requested not in (None, field_name):
                raise InvalidInputError(f"this function resolves {field_name}, not {requested}")
            result = run(validate_arguments(arguments, event.get("arguments")))
        return result.model_dump(mode="json", by_alias=True) if isinstance(result, BaseModel) else result

    return lambda_handler
