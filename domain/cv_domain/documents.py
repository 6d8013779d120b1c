"""Generated documents: a CV, a cover letter, a speech.

Documents are written by the model as Markdown text (the text path of ``invoke_bedrock``), not as JSON: prose is
what models write best, a JSON string of several paragraphs costs escaping tokens and fails validation more often,
and a client renders Markdown as is. The operation wraps the text in a typed result (language, word count).
"""

import re
from typing import Self

from pydantic import Field

from .base import DomainModel
from .enums import Language
from .limits import MAX_DOCUMENT_CHARS

#: A calm speaking pace; interview coaches plan with 120-150 words per minute.
SPEAKING_WORDS_PER_MINUTE = 130
MIN_SPEECH_SECONDS = 30
MAX_SPEECH_SECONDS = 300

_FENCED = re.compile(r"^```(?:markdown|md)?[ \t]*\n(?P<body>.*)\n```$", re.DOTALL | re.IGNORECASE)
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def clean_markdown(text: str) -> str:
    """The Markdown a model wrote, without the code fence some models wrap a whole answer in."""
    text = text.strip()
    fenced = _FENCED.match(text)
    return fenced.group("body").strip() if fenced else text


def count_words(text: str) -> int:
    """Words in a text, ignoring Markdown punctuation ('state-of-the-art' and "l'équipe" count once)."""
    return len(_WORD.findall(text))


class GeneratedDocument(DomainModel):
    """A document written for the candidate, in Markdown."""

    markdown: str = Field(min_length=1, max_length=MAX_DOCUMENT_CHARS, description="The document, in Markdown.")
    language: Language = Field(description="The language the document is written in.")
    word_count: int = Field(ge=0, description="Number of words in the document.")

    @classmethod
    def from_markdown(cls, text: str, language: Language) -> Self:
        """Wrap a model's Markdown answer; the word count is computed, not asked of the model."""
        markdown = clean_markdown(text)
        return cls(markdown=markdown, language=language, word_count=count_words(markdown))


class Speech(GeneratedDocument):
    """A short speech for the candidate to say out loud, e.g. answering 'Tell me about yourself'."""

    estimated_duration_seconds: int = Field(
        ge=0, description=f"Speaking time at {SPEAKING_WORDS_PER_MINUTE} words per minute."
    )

    @classmethod
    def from_markdown(cls, text: str, language: Language) -> Self:
        markdown = clean_markdown(text)
        words = count_words(markdown)
        return cls(
            markdown=markdown,
            language=language,
            word_count=words,
            estimated_duration_seconds=round(words * 60 / SPEAKING_WORDS_PER_MINUTE),
        )
