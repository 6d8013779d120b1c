"""What a candidate makes of their experience: STAR stories, achievements with KPIs, a personal canvas."""

from pydantic import Field

from .base import DomainModel, Paragraph, Sentence, ShortText


class StarStory(DomainModel):
    """An interview story in the STAR format (Situation, Task, Action, Result), told in the first person."""

    title: ShortText = Field(description="A short title naming what the story shows, e.g. 'Cutting cloud costs'.")
    situation: Paragraph = Field(description="The context: where, when, what was at stake. Two or three sentences.")
    task: Paragraph = Field(description="What the candidate personally had to achieve or solve.")
    action: Paragraph = Field(
        description="What the candidate did, step by step, in the first person ('I ...'); the longest part."
    )
    result: Paragraph = Field(
        description="The outcome, with the figures the source states; no figure the source does not give."
    )
    skills_demonstrated: list[ShortText] = Field(
        max_length=8, description="Skills and qualities the story gives evidence of."
    )


class Kpi(DomainModel):
    """A measurable indicator of an achievement."""

    metric: ShortText = Field(description="What is measured, e.g. 'monthly cloud spend' or 'deployment frequency'.")
    value: float | None = Field(
        None, description="The figure the source states (38 for '38%'); null when the source gives no figure."
    )
    unit: ShortText | None = Field(None, description="Unit of value and baseline, e.g. '%', 'EUR', 'days'.")
    baseline: float | None = Field(None, description="The value before, when the source states it; else null.")
    timeframe: ShortText | None = Field(
        None, description="Period over which it was achieved or measured, e.g. 'in 2023'; null when not stated."
    )


class Achievement(DomainModel):
    """One achievement, written as a CV bullet point, with the indicators that measure it."""

    statement: Sentence = Field(
        description="One CV bullet: starts with an action verb, says what was done and its result."
    )
    impact: Sentence | None = Field(
        None, description="Why it mattered to the business or the team; null when the source does not say."
    )
    kpis: list[Kpi] = Field(
        max_length=3,
        description="Indicators measuring it. With no figure in the source, name the metric and leave value null.",
    )


class AchievementsAndKpis(DomainModel):
    """Achievements drawn from one position, each with measurable KPIs."""

    achievements: list[Achievement] = Field(
        max_length=8, description="The strongest achievements first; only what the source supports."
    )


class PersonalCanvas(DomainModel):
    """A personal business model canvas: the candidate's career seen as a business model."""

    key_resources: list[Sentence] = Field(
        max_length=6, description="Who the candidate is and what they have: skills, knowledge, experience, traits."
    )
    key_activities: list[Sentence] = Field(max_length=6, description="What the candidate does best at work.")
    value_proposition: list[Sentence] = Field(
        max_length=6, description="How the candidate helps: the value they create for the people they serve."
    )
    customers_served: list[Sentence] = Field(
        max_length=6, description="Who the candidate helps: employers, teams, users, clients."
    )
    channels: list[Sentence] = Field(
        max_length=6, description="How those people learn about the candidate and how the work is delivered."
    )
    relationships: list[Sentence] = Field(
        max_length=6, description="How the candidate works with them: mentoring, partnership, self-service..."
    )
    key_partners: list[Sentence] = Field(
        max_length=6, description="Who helps the candidate succeed: colleagues, mentors, communities, networks."
    )
    motivations: list[Sentence] = Field(
        max_length=6, description="What the candidate gets and seeks: pay, learning, impact, recognition, balance."
    )
    costs: list[Sentence] = Field(
        max_length=6, description="What the work costs the candidate: time, stress, travel, trade-offs."
    )
