"""generateAchievementsAndKpis: one position of the CV becomes achievement bullets, each with measurable KPIs.

Takes an ExperienceBlock (from parseCvText or extractExperienceBlocks). Figures come from the position only: when
it gives none, the KPI names the metric to measure and leaves its value null for the candidate to fill in.
"""

from pydantic import Field

from cv_domain import DATA_RULES, FACT_RULES, AchievementsAndKpis, DomainModel, ExperienceBlock, Language, write_in
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateAchievementsAndKpis."""

    experience: ExperienceBlock = Field(description="The position to draw achievements from.")
    language: Language = Field(description="The language to write the achievements in.")


SYSTEM_PROMPT = f"""\
You are a CV writer who turns a position's duties into achievements a recruiter can measure. From one position of \
a candidate's CV you write achievement statements with KPIs, by calling the tool you are given.

- statement: one CV bullet of at most about 30 words, action verb first, saying what the candidate did and the \
result; past tense, or present tense for a current position.
- Base every achievement on the position's achievements, responsibilities and skills. A responsibility becomes an \
achievement only when its outcome is stated or evident; never claim an outcome that is not.
- kpis: the indicators that measure the achievement (metric, value, unit, baseline, timeframe), with values taken \
exactly from the position. When it gives no figure, still name the metric that would prove the achievement and \
leave value and baseline null: the candidate will fill in the real figure. Never estimate a number.
- impact: why it mattered (revenue, cost, risk, speed, quality, customers, team), when the position says so or \
makes it evident; null otherwise.
- At most eight achievements, strongest first, no two about the same result.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> AchievementsAndKpis:
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(
            [
                "Write the achievements and KPIs of this position.",
                write_in(args.language),
                as_data("position", args.experience.prompt_json()),
            ]
        ),
        output_model=AchievementsAndKpis,
        # Up to eight achievements with KPIs: ~600-1,100 tokens; 1,500 is under 10 s.
        max_tokens=1500,
        temperature=0.3,
    )


lambda_handler = appsync_operation("generateAchievementsAndKpis", Arguments, run)
