"""The closed vocabularies of the domain. Member values equal their names, as GraphQL enums send them."""

from enum import StrEnum


class Language(StrEnum):
    """A language the assistant writes in (ISO 639-1 code, upper case)."""

    EN = "EN"
    FR = "FR"
    DE = "DE"
    ES = "ES"
    IT = "IT"
    NL = "NL"
    PT = "PT"

    @property
    def english_name(self) -> str:
        """The language's name in English, as a prompt names it."""
        return _LANGUAGE_NAMES[self]


_LANGUAGE_NAMES = {
    Language.EN: "English",
    Language.FR: "French",
    Language.DE: "German",
    Language.ES: "Spanish",
    Language.IT: "Italian",
    Language.NL: "Dutch",
    Language.PT: "Portuguese",
}


class Tone(StrEnum):
    """The tone of voice of a generated document."""

    PROFESSIONAL = "PROFESSIONAL"
    FRIENDLY = "FRIENDLY"
    CONFIDENT = "CONFIDENT"
    ENTHUSIASTIC = "ENTHUSIASTIC"
    FORMAL = "FORMAL"
    CONCISE = "CONCISE"

    @property
    def guidance(self) -> str:
        """What the tone means, in words a prompt can give the model."""
        return _TONE_GUIDANCE[self]


_TONE_GUIDANCE = {
    Tone.PROFESSIONAL: "professional: clear, precise and courteous; no slang, no exaggeration",
    Tone.FRIENDLY: "friendly: warm and approachable, still respectful; plain words, short sentences",
    Tone.CONFIDENT: "confident: direct and assured; active voice, concrete results first, no hedging or boasting",
    Tone.ENTHUSIASTIC: "enthusiastic: energetic and genuinely motivated, without exclamation marks in every line",
    Tone.FORMAL: "formal: the conventions of formal business correspondence in the target language",
    Tone.CONCISE: "concise: as few words as the content allows; no filler, no repetition",
}


class Proficiency(StrEnum):
    """How well someone speaks a language: NATIVE, FLUENT (CEFR C1-C2), INTERMEDIATE (B1-B2), BASIC (A1-A2)."""

    NATIVE = "NATIVE"
    FLUENT = "FLUENT"
    INTERMEDIATE = "INTERMEDIATE"
    BASIC = "BASIC"


class Seniority(StrEnum):
    """The seniority a job asks for."""

    INTERN = "INTERN"
    JUNIOR = "JUNIOR"
    MID = "MID"
    SENIOR = "SENIOR"
    LEAD = "LEAD"
    PRINCIPAL = "PRINCIPAL"
    MANAGER = "MANAGER"
    DIRECTOR = "DIRECTOR"
    EXECUTIVE = "EXECUTIVE"


class EmploymentType(StrEnum):
    """The contract a job offers."""

    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"
    CONTRACT = "CONTRACT"
    TEMPORARY = "TEMPORARY"
    INTERNSHIP = "INTERNSHIP"
    APPRENTICESHIP = "APPRENTICESHIP"
    FREELANCE = "FREELANCE"


class WorkMode(StrEnum):
    """Where a job is done."""

    ONSITE = "ONSITE"
    HYBRID = "HYBRID"
    REMOTE = "REMOTE"
