"""The job: a job description parsed into its parts."""

from typing import ClassVar

from pydantic import Field

from .base import DomainModel, Paragraph, Sentence, ShortText
from .enums import EmploymentType, Seniority, WorkMode
from .limits import MAX_JOB_JSON_CHARS


class JobDescription(DomainModel):
    """A job advertisement parsed into its parts, containing only what the advertisement states."""

    max_prompt_chars: ClassVar[int | None] = MAX_JOB_JSON_CHARS

    title: ShortText = Field(description="The job title as advertised.")
    company: ShortText | None = Field(None, description="The hiring company; null when the ad does not name it.")
    location: ShortText | None = Field(None, description="Where the job is based, as stated.")
    work_mode: WorkMode | None = Field(None, description="On site, hybrid or remote; null when not stated.")
    seniority: Seniority | None = Field(
        None, description="Seniority from the title or the experience asked for; null when unclear."
    )
    employment_type: EmploymentType | None = Field(None, description="Type of contract; null when not stated.")
    summary: Paragraph | None = Field(None, description="What the role is about, in two or three sentences.")
    responsibilities: list[Sentence] = Field(max_length=20, description="What the person will do, one per item.")
    required_skills: list[ShortText] = Field(
        max_length=30, description="Skills, tools and experience the ad requires (must-haves)."
    )
    nice_to_have_skills: list[ShortText] = Field(
        max_length=30, description="Skills the ad calls a plus, preferred or nice to have."
    )
    qualifications: list[Sentence] = Field(
        max_length=12, description="Degrees, years of experience, certifications, languages, permits required."
    )
    benefits: list[Sentence] = Field(max_length=15, description="What the employer offers besides the salary.")
    salary: ShortText | None = Field(
        None, description="Pay as written, with currency and period, e.g. 'EUR 95,000-115,000 per year'."
    )
