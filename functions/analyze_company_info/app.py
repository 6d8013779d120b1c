"""analyzeCompanyInfo: a text about a company (website, about page, press release, notes) becomes CompanyInfo.

What a candidate needs to know before applying: what the company does and for whom, how people work there, what it
faces. From the text only, never from the model's memory of a company with that name, which may be outdated or
another company. The result is the ``company`` argument of the generation operations.
"""

from pydantic import Field

from cv_domain import (
    DATA_RULES,
    FACT_RULES,
    MAX_COMPANY_TEXT_CHARS,
    SHORT_TEXT_CHARS,
    CompanyInfo,
    DomainModel,
)
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of analyzeCompanyInfo."""

    company_text: str = Field(
        min_length=1,
        max_length=MAX_COMPANY_TEXT_CHARS,
        description="Text about the company: website pages, press releases, a job ad, notes.",
    )
    company_name: str | None = Field(
        None, min_length=1, max_length=SHORT_TEXT_CHARS, description="The company's name, when the client knows it."
    )


SYSTEM_PROMPT = f"""\
You are a business analyst preparing a candidate for a job application. From a text about a company (its website, \
an "about us" page, press releases, a job ad or notes) you extract what matters to a candidate, by calling the \
tool you are given.

- name: the company's name; the one the application gives, when it gives one.
- summary: what the company does, for whom and how, in three to five sentences of your own, based on the text.
- products: each product or service with what it does. market: customer segments and geography served.
- culture: how people work there (ways of working, rituals, remote policy) as the text describes it. values: the \
values the company states, in its own words.
- competitors: only companies the text names as competitors or alternatives; empty otherwise.
- challenges: what the company is up against (growth targets, regulation, competition, technical scale) as the \
text states or makes evident, e.g. a hiring push to scale a platform.
- Rely on the text only, not on anything you may know about a company of that name: it may be outdated or \
another company.
- Write in the language of the text.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> CompanyInfo:
    parts = ["Analyse this information about a company."]
    if args.company_name is not None:
        parts.append(as_data("company name", args.company_name))
    parts.append(as_data("company information", args.company_text))
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(parts),
        output_model=CompanyInfo,
        # CompanyInfo is ~500-900 tokens; 1,200 bounds it to ~8 s.
        max_tokens=1200,
        temperature=0.1,
    )


lambda_handler = appsync_operation("analyzeCompanyInfo", Arguments, run)
