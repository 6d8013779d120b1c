"""generateCompanyCanvas: what is known about a company becomes its business model canvas.

Takes a CompanyInfo (from analyzeCompanyInfo). Each of the nine blocks restates the information or draws a
conclusion that follows directly from it, so a candidate sees how the company makes money and where they could
contribute; a block the information cannot support stays empty.
"""

from pydantic import Field

from cv_domain import DATA_RULES, FACT_RULES, CompanyCanvas, CompanyInfo, DomainModel, Language, write_in
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateCompanyCanvas."""

    company: CompanyInfo = Field(description="What is known about the company.")
    language: Language = Field(description="The language to write the canvas in.")


SYSTEM_PROMPT = f"""\
You are a strategy consultant. From structured information about a company you fill the nine blocks of its \
Business Model Canvas (Osterwalder), by calling the tool you are given, to help a job candidate understand how the \
company creates and captures value and where they could contribute.

- keyPartners, keyActivities, keyResources, valuePropositions, customerRelationships, channels, customerSegments, \
costStructure, revenueStreams: two to five short, specific items each.
- Derive each item from the information: restate what it says, or draw a conclusion that follows directly from \
it (a software platform implies engineering and hosting costs). Do not introduce partners, customers, products, \
prices or figures the information does not mention.
- When the information gives nothing to support a block, leave that block empty rather than fill it with generic \
statements.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> CompanyCanvas:
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(
            [
                "Fill the business model canvas of this company.",
                write_in(args.language),
                as_data("company information", args.company.prompt_json()),
            ]
        ),
        output_model=CompanyCanvas,
        # Nine blocks of a few short items: ~500-900 tokens; 1,200 is ~8 s.
        max_tokens=1200,
        temperature=0.3,
    )


lambda_handler = appsync_operation("generateCompanyCanvas", Arguments, run)
