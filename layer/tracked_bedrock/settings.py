"""The layer's settings: read once from the environment, typed, failing fast with the variable's name."""

from __future__ import annotations

import json
import os
from functools import cached_property, lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import SettingsError
from .pricing import ModelPrice, PriceBook

DEFAULT_MODEL_ID = "eu.amazon.nova-micro-v1:0"
DEFAULT_POSTHOG_HOST = "https://eu.i.posthog.com"
DEFAULT_DISTINCT_ID = "backend-ai-operations"
# AppSync gives up after 30 s: Bedrock's read timeout must leave room inside the Lambda timeout, itself < 30 s.
APPSYNC_TIMEOUT_SECONDS = 30.0


class Settings(BaseModel):
    """Every knob of the layer. Field aliases are the environment variables' names."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    model_id: str = Field(DEFAULT_MODEL_ID, alias="MODEL_ID", min_length=1)
    posthog_api_key: str = Field("", alias="POSTHOG_API_KEY")
    posthog_host: str = Field(DEFAULT_POSTHOG_HOST, alias="POSTHOG_HOST")
    posthog_distinct_id: str = Field(DEFAULT_DISTINCT_ID, alias="POSTHOG_DISTINCT_ID", min_length=1)
    #: Keep tokens, cost and latency but send no prompt or output text (CVs are personal data).
    posthog_privacy_mode: bool = Field(False, alias="POSTHOG_PRIVACY_MODE")
    #: Upper bound, in seconds, on the time spent delivering one invocation's events.
    posthog_delivery_timeout: float = Field(1.0, alias="POSTHOG_DELIVERY_TIMEOUT", gt=0, le=10)
    #: Deliver after the response through an internal Lambda extension, where one can register.
    posthog_delivery_extension: bool = Field(True, alias="POSTHOG_DELIVERY_EXTENSION")
    bedrock_read_timeout: float = Field(20.0, alias="BEDROCK_READ_TIMEOUT", gt=0, lt=APPSYNC_TIMEOUT_SECONDS)
    bedrock_connect_timeout: float = Field(3.0, alias="BEDROCK_CONNECT_TIMEOUT", gt=0, le=10)
    #: Attempts in all (first call + retries); botocore's own default differs between versions.
    bedrock_max_attempts: int = Field(3, alias="BEDROCK_MAX_ATTEMPTS", ge=1, le=10)
    bedrock_retry_mode: Literal["standard", "adaptive", "legacy"] = Field("standard", alias="BEDROCK_RETRY_MODE")
    #: JSON object: model id (full, or base id without prefix) -> {"input", "output", "cache_read", "cache_write"}
    #: in USD per 1M tokens.
    bedrock_prices: dict[str, ModelPrice] = Field(default_factory=dict, alias="BEDROCK_PRICES")

    #: Powertools' own switch; when set, the layer does not even build the metrics (they cost ~µs per call).
    powertools_metrics_disabled: bool = Field(False, alias="POWERTOOLS_METRICS_DISABLED")

    @field_validator("posthog_host")
    @classmethod
    def _host_is_http(cls, value: str) -> str:
        value = value.strip().rstrip("/") or DEFAULT_POSTHOG_HOST
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local endpoint)")
        return value

    @field_validator("bedrock_prices", mode="before")
    @classmethod
    def _prices_from_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None

    @property
    def analytics_enabled(self) -> bool:
        """An empty key disables analytics entirely, as in the original design."""
        return bool(self.posthog_api_key.strip())

    @property
    def cloudwatch_metrics(self) -> bool:
        """Whether each call also publishes CloudWatch metrics (EMF)."""
        return not self.powertools_metrics_disabled

    @cached_property
    def price_book(self) -> PriceBook:
        return PriceBook(self.bedrock_prices)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read and validate; a bad value raises SettingsError naming the variable."""
        env = dict(os.environ if environ is None else environ)
        # Empty strings mean "not set" for every variable but the key (whose empty value is meaningful).
        values = {k: v for k, v in env.items() if v != "" or k == "POSTHOG_API_KEY"}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors())
            raise SettingsError(f"invalid environment: {problems}") from None


#: Every environment variable the layer reads (scripts and tests clear them to start from the defaults).
ENVIRONMENT_VARIABLES: tuple[str, ...] = (
    *(str(field.alias or name) for name, field in Settings.model_fields.items()),
    "AWS_LAMBDA_RUNTIME_API",  # read by the extension to decide whether it can register
)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this execution environment, read on first use (tests call ``get_settings.cache_clear()``)."""
    return Settings.from_env()
