"""The base of every domain model, and the text types the models are built from."""

from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from .limits import PARAGRAPH_CHARS, SENTENCE_CHARS, SHORT_TEXT_CHARS

#: A name, a title, a skill: one line.
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=SHORT_TEXT_CHARS)]
#: One bullet point or one statement.
Sentence = Annotated[str, StringConstraints(min_length=1, max_length=SENTENCE_CHARS)]
#: A summary or a short passage of prose.
Paragraph = Annotated[str, StringConstraints(min_length=1, max_length=PARAGRAPH_CHARS)]
#: A month ("2021-03"), or a year alone ("2019") when the source gives no month.
YearMonth = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$")]


class DomainModel(BaseModel):
    """Base of the CV domain's models: camelCase aliases for GraphQL, unknown fields refused, text stripped.

    The same class validates a GraphQL argument and a model's structured answer, so a client can pass one
    operation's result to the next. Every field is either required or ``None`` by default (never another
    default): AppSync does not pass schema defaults to resolvers, so the GraphQL schema can mirror the models
    exactly (required is ``!``, optional is nullable). Blank text in an optional field counts as absent.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    #: Upper bound on the model's prompt JSON, for models that arrive as arguments and go into a prompt whole.
    max_prompt_chars: ClassVar[int | None] = None

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, data: Any) -> Any:
        # Models (and form-based clients) write "" for "unknown" as often as null; for an optional field both
        # mean absent, and refusing "" would cost a corrective call to the model.
        if not isinstance(data, dict):
            return data
        optional = {
            key for name, field in cls.model_fields.items() if not field.is_required() for key in (name, field.alias)
        }
        return {
            key: None if key in optional and isinstance(value, str) and not value.strip() else value
            for key, value in data.items()
        }

    @model_validator(mode="after")
    def _fits_in_a_prompt(self) -> Self:
        limit = type(self).max_prompt_chars
        if limit is not None and (size := len(self.prompt_json())) > limit:
            raise ValueError(f"is too large: {size:,} characters as JSON, at most {limit:,}")
        return self

    def prompt_json(self) -> str:
        """The model as it is shown to the LLM: compact JSON by alias, without the fields that are null."""
        return self.model_dump_json(by_alias=True, exclude_none=True)
