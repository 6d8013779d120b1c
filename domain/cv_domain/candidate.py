"""The candidate: a CV parsed into a profile, work experiences, education, skills, languages, certifications."""

from typing import ClassVar

from pydantic import Field

from .base import DomainModel, Paragraph, Sentence, ShortText, YearMonth
from .enums import Proficiency
from .limits import MAX_CV_JSON_CHARS


class ContactInfo(DomainModel):
    """How to reach the candidate, as written in the CV."""

    email: ShortText | None = Field(None, description="Email address; null when the CV gives none.")
    phone: ShortText | None = Field(None, description="Phone number as written; null when the CV gives none.")
    linkedin_url: ShortText | None = Field(None, description="LinkedIn profile URL; null when the CV gives none.")
    website_url: ShortText | None = Field(
        None, description="Personal website, portfolio or code-hosting profile URL; null when the CV gives none."
    )


class CandidateProfile(DomainModel):
    """Who the candidate is, from the top of the CV."""

    full_name: ShortText | None = Field(None, description="The candidate's name; null when the CV is anonymised.")
    headline: ShortText | None = Field(
        None, description="The professional title the CV puts forward, e.g. 'Senior Backend Engineer'."
    )
    summary: Paragraph | None = Field(
        None, description="The CV's own profile or summary section, condensed; null when the CV has none."
    )
    location: ShortText | None = Field(None, description="Where the candidate lives (city, country).")
    contact: ContactInfo = Field(description="Contact details; every field null when the CV gives none.")


class ExperienceBlock(DomainModel):
    """One position held by the candidate, with what they did and achieved there."""

    role: ShortText = Field(description="Job title as written in the CV.")
    company: ShortText | None = Field(None, description="Employer or client; null for self-employment without one.")
    location: ShortText | None = Field(None, description="City and/or country, or 'Remote'; null when not given.")
    start_date: YearMonth | None = Field(
        None, description="Start as YYYY-MM, or YYYY when only the year is given; null when not given."
    )
    end_date: YearMonth | None = Field(
        None, description="End as YYYY-MM or YYYY; null when the position is current or the end is not given."
    )
    is_current: bool = Field(description="True when the CV says the position is ongoing ('present', 'today').")
    responsibilities: list[Sentence] = Field(
        max_length=12, description="What the candidate was responsible for, one concise item each, as stated."
    )
    achievements: list[Sentence] = Field(
        max_length=10,
        description="Results the CV states for this position, keeping every figure exactly as written.",
    )
    skills: list[ShortText] = Field(
        max_length=25, description="Tools, technologies and skills the CV ties to this position."
    )


class EducationEntry(DomainModel):
    """One degree, diploma or course of study."""

    institution: ShortText = Field(description="School, university or training provider.")
    degree: ShortText | None = Field(None, description="Degree or diploma, e.g. 'MSc'; null when not given.")
    field_of_study: ShortText | None = Field(None, description="Subject, e.g. 'Computer Science'.")
    start_date: YearMonth | None = Field(None, description="Start as YYYY-MM or YYYY; null when not given.")
    end_date: YearMonth | None = Field(
        None, description="End or graduation as YYYY-MM or YYYY; null when ongoing or not given."
    )
    details: list[Sentence] = Field(
        max_length=5, description="Honours, grade, thesis or notable coursework, as stated."
    )


class Certification(DomainModel):
    """A certificate or licence."""

    name: ShortText = Field(description="Name of the certification as written.")
    issuer: ShortText | None = Field(None, description="Issuing organisation; null when not given.")
    date: YearMonth | None = Field(None, description="When it was obtained, YYYY-MM or YYYY; null when not given.")


class SpokenLanguage(DomainModel):
    """A language the candidate speaks."""

    language: ShortText = Field(description="The language's name, e.g. 'German'.")
    proficiency: Proficiency | None = Field(
        None, description="Level mapped from the CV's wording or CEFR level; null when the CV states none."
    )


class ParsedCv(DomainModel):
    """A CV parsed into a structured candidate profile, containing only facts stated in the CV."""

    max_prompt_chars: ClassVar[int | None] = MAX_CV_JSON_CHARS

    profile: CandidateProfile = Field(description="The candidate's identity, headline, summary and contact.")
    experiences: list[ExperienceBlock] = Field(
        max_length=20, description="Work experience, most recent first; includes freelance work and internships."
    )
    education: list[EducationEntry] = Field(max_length=10, description="Education, most recent first.")
    skills: list[ShortText] = Field(
        max_length=60, description="Skills listed anywhere in the CV, each once, most prominent first."
    )
    languages: list[SpokenLanguage] = Field(max_length=12, description="Languages the candidate speaks.")
    certifications: list[Certification] = Field(max_length=20, description="Certifications and licences.")


class ExperienceBlocks(DomainModel):
    """The candidate's work experience split into one block per position."""

    experiences: list[ExperienceBlock] = Field(
        max_length=20, description="One block per position, most recent first; empty when the text has none."
    )
