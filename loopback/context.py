"""A Lambda context object as the Python runtime passes it to a handler, for running handlers in-process."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    """The attributes and method of ``awslambdaric``'s context that handlers and Powertools use."""

    function_name: str = "local-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    timeout_s: float = 28.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        # A shape-correct ARN with a placeholder account: nothing real is ever called with it.
        return f"arn:aws:lambda:eu-west-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
