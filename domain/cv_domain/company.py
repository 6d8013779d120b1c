"""The company: what is known about an employer, and its business model canvas."""

from typing import ClassVar

from pydantic import Field

from .base import DomainModel, Paragraph, Sentence, ShortText
from .limits import MAX_COMPANY_JSON_CHARS


class CompanyInfo(DomainModel):
    """What a text says about a company: what it does, for whom, how it works, what it faces."""

    max_prompt_chars: ClassVar[int | None] = MAX_COMPANY_JSON_CHARS

    name: ShortText | None = Field(None, description="The company's name; null when the text does not give it.")
    summary: Paragraph = Field(description="What the company does, for whom, and how, in three to five sentences.")
    industry: ShortText | None = Field(None, description="Industry or sector, e.g. 'energy software'.")
    headquarters: ShortText | None = Field(None, description="Head office city and country, when stated.")
    size: ShortText | None = Field(
        None, description="Size as stated: employees, offices, revenue or funding stage, e.g. '210 employees'."
    )
    products: list[Sentence] = Field(max_length=10, description="Products and services, each with what it does.")
    market: Sentence | None = Field(
        None, description="Markets, customer segments and geography the company serves; null when not stated."
    )
    culture: list[Sentence] = Field(max_length=8, description="How people work there: practices, rituals, style.")
    values: list[ShortText] = Field(max_length=8, description="Values the company states, in its own words.")
    competitors: list[ShortText] = Field(
        max_length=10, description="Competitors named in the text; empty when it names none."
    )
    challenges: list[Sentence] = Field(
        max_length=8, description="Challenges the text states or makes evident (growth, regulation, competition)."
    )


class CompanyCanvas(DomainModel):
    """A business model canvas of a company: the nine building blocks of how it creates and captures value."""

    key_partners: list[Sentence] = Field(max_length=6, description="Suppliers and partners the business relies on.")
    key_activities: list[Sentence] = Field(
        max_length=6, description="The most important things the company must do to deliver its value."
    )
    key_resources: list[Sentence] = Field(
        max_length=6, description="The assets it needs: technology, data, people, brand, licences."
    )
    value_propositions: list[Sentence] = Field(
        max_length=6, description="The value it delivers to each customer segment."
    )
    customer_relationships: list[Sentence] = Field(max_length=6, description="How it gets, keeps and grows customers.")
    channels: list[Sentence] = Field(max_length=6, description="How it reaches customers and delivers the value.")
    customer_segments: list[Sentence] = Field(max_length=6, description="The groups of customers it serves.")
    cost_structure: list[Sentence] = Field(max_length=6, description="Its most important costs.")
    revenue_streams: list[Sentence] = Field(max_length=6, description="How it earns money from each segment.")
