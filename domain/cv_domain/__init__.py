"""The CV domain: the typed models shared by the CV assistant's operations, their size limits and prompt rules.

Every model validates both ways: as a GraphQL argument (camelCase aliases, unknown fields refused) and as the
structured answer of a model, whose JSON Schema is generated from it (the docstring's first line becomes the tool's
description, field descriptions and constraints go into the schema). So one operation's result can be passed as
the next one's argument.
"""

from .base import DomainModel, Paragraph, Sentence, ShortText, YearMonth
from .candidate import (
    CandidateProfile,
    Certification,
    ContactInfo,
    EducationEntry,
    ExperienceBlock,
    ExperienceBlocks,
    ParsedCv,
    SpokenLanguage,
)
from .career import Achievement, AchievementsAndKpis, Kpi, PersonalCanvas, StarStory
from .company import CompanyCanvas, CompanyInfo
from .documents import (
    MAX_SPEECH_SECONDS,
    MIN_SPEECH_SECONDS,
    SPEAKING_WORDS_PER_MINUTE,
    GeneratedDocument,
    Speech,
)
from .enums import EmploymentType, Language, Proficiency, Seniority, Tone, WorkMode
from .job import JobDescription
from .limits import (
    MAX_COMPANY_JSON_CHARS,
    MAX_COMPANY_TEXT_CHARS,
    MAX_CV_JSON_CHARS,
    MAX_CV_TEXT_CHARS,
    MAX_DOCUMENT_CHARS,
    MAX_JOB_JSON_CHARS,
    MAX_JOB_TEXT_CHARS,
    MAX_NOTES_CHARS,
    PARAGRAPH_CHARS,
    SENTENCE_CHARS,
    SHORT_TEXT_CHARS,
)
from .matching import MatchingSummary
from .prompts import DATA_RULES, FACT_RULES, in_tone, write_in

__all__ = [
    "DATA_RULES",
    "FACT_RULES",
    "MAX_COMPANY_JSON_CHARS",
    "MAX_COMPANY_TEXT_CHARS",
    "MAX_CV_JSON_CHARS",
    "MAX_CV_TEXT_CHARS",
    "MAX_DOCUMENT_CHARS",
    "MAX_JOB_JSON_CHARS",
    "MAX_JOB_TEXT_CHARS",
    "MAX_NOTES_CHARS",
    "MAX_SPEECH_SECONDS",
    "MIN_SPEECH_SECONDS",
    "PARAGRAPH_CHARS",
    "SENTENCE_CHARS",
    "SHORT_TEXT_CHARS",
    "SPEAKING_WORDS_PER_MINUTE",
    "Achievement",
    "AchievementsAndKpis",
    "CandidateProfile",
    "Certification",
    "CompanyCanvas",
    "CompanyInfo",
    "ContactInfo",
    "DomainModel",
    "EducationEntry",
    "EmploymentType",
    "ExperienceBlock",
    "ExperienceBlocks",
    "GeneratedDocument",
    "JobDescription",
    "Kpi",
    "Language",
    "MatchingSummary",
    "Paragraph",
    "ParsedCv",
    "PersonalCanvas",
    "Proficiency",
    "Seniority",
    "Sentence",
    "ShortText",
    "Speech",
    "SpokenLanguage",
    "StarStory",
    "Tone",
    "WorkMode",
    "YearMonth",
    "in_tone",
    "write_in",
]
