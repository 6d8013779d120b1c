"""How well a candidate fits a job."""

from pydantic import Field

from .base import DomainModel, Paragraph, Sentence


class MatchingSummary(DomainModel):
    """How well a candidate matches a job: a score with the evidence for it and what to do next."""

    score: int = Field(
        ge=0,
        le=100,
        description="Fit from 0 to 100: 85+ meets nearly every requirement, 60-84 good with gaps, below 40 poor.",
    )
    summary: Paragraph = Field(description="The verdict in two or three sentences, addressed to the candidate.")
    reasons: list[Sentence] = Field(
        max_length=6, description="Why this score: the deciding requirements and how the CV meets them or not."
    )
    strengths: list[Sentence] = Field(
        max_length=8, description="Requirements the candidate clearly meets, each with the evidence from the CV."
    )
    gaps: list[Sentence] = Field(max_length=8, description="Requirements the CV does not show, or shows only partly.")
    recommendations: list[Sentence] = Field(
        max_length=6, description="Concrete next steps: what to stress in the application, what to learn or prove."
    )
