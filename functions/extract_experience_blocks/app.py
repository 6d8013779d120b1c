"""extractExperienceBlocks: the work experience in a CV or career text, one detailed block per position.

Deeper than parseCvText's experiences and nothing else: each position's duties, results (with their figures) and
skills are separated, so that each block can feed generateStarStory or generateAchievementsAndKpis.
"""

from pydantic import Field

from cv_domain import DATA_RULES, FACT_RULES, MAX_CV_TEXT_CHARS, DomainModel, ExperienceBlocks
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of extractExperienceBlocks."""

    cv_text: str = Field(
        min_length=1,
        max_length=MAX_CV_TEXT_CHARS,
        description="A CV, a profile export or a free-form career description, as plain text.",
    )


SYSTEM_PROMPT = f"""\
You are a career coach's assistant who extracts work experience in detail. From the text you are given (a CV, a \
professional-network profile export or a free-form career description) you extract every position held, one \
block per position, by calling the tool you are given.

- One block per position: a promotion or a move within the same employer starts a new block. Include freelance \
work, internships and part-time positions; leave out education, hobbies and volunteering not described as work.
- role, company and location as written. Dates as YYYY-MM, or YYYY when only the year is given. isCurrent is true \
for an ongoing position, which then has no endDate.
- responsibilities: the scope of the job, what the candidate owned, ran, built or looked after, one concise item \
each, starting with a verb.
- achievements: results and outcomes, one per item, keeping every figure, percentage, amount and timeframe exactly \
as written. A sentence holding both a duty and its result goes to achievements.
- skills: the tools, technologies, methods and soft skills the text ties to that position, named as in the text. \
Do not add skills the text does not mention for that position.
- Most recent position first. Keep the text's own language.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> ExperienceBlocks:
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content=f"Extract the work experience from this text.\n\n{as_data('CV', args.cv_text)}",
        output_model=ExperienceBlocks,
        # Every position in detail: up to ~2,000 tokens for a long career; 2,500 is 10-17 s of Nova Micro.
        max_tokens=2500,
        temperature=0.0,
    )


lambda_handler = appsync_operation("extractExperienceBlocks", Arguments, run)
