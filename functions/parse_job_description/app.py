"""parseJobDescription: the text of a job advertisement becomes a structured JobDescription.

Extraction in the ad's own language: must-have and nice-to-have skills are told apart by the ad's wording, and
what the ad does not say (salary, seniority, work mode) stays null. The result is the ``job`` argument of the
generation operations.
"""

from pydantic import Field

from cv_domain import DATA_RULES, FACT_RULES, MAX_JOB_TEXT_CHARS, DomainModel, JobDescription
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of parseJobDescription."""

    job_text: str = Field(
        min_length=1, max_length=MAX_JOB_TEXT_CHARS, description="The job advertisement as plain text."
    )


SYSTEM_PROMPT = f"""\
You are a recruiter's assistant who parses job advertisements. From the text of a job ad, in any language, you \
extract its parts by calling the tool you are given.

- title, company and location as the ad states them. summary: two or three sentences on what the role is about.
- workMode: REMOTE when the job can be done fully remotely, HYBRID when it mixes office and remote days, ONSITE \
when the ad requires presence; null when the ad does not say.
- seniority: from the title or the experience asked for ("Staff" or "Principal" -> PRINCIPAL, "Lead" -> LEAD, \
"5+ years" -> SENIOR, "graduate" -> JUNIOR); null when unclear.
- employmentType: from the contract the ad offers ("permanent, full-time" -> FULL_TIME); null when not stated.
- requiredSkills and niceToHaveSkills: a skill is nice to have only when the ad calls it a plus, preferred, nice \
to have, a bonus or similar; otherwise it is required. Short names ("Python", "Kafka", "stakeholder management"), \
not sentences.
- qualifications: degrees, years of experience, certifications, spoken languages and work permits asked for.
- responsibilities and benefits: one per item, condensed but faithful.
- salary: as written, with currency and period; null when the ad gives none.
- Keep the ad's own language. Ignore application instructions, legal boilerplate and cookie notices.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> JobDescription:
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content=f"Parse this job advertisement.\n\n{as_data('job advertisement', args.job_text)}",
        output_model=JobDescription,
        # A parsed ad is ~600-1,000 tokens; 1,500 bounds a long one to under 10 s.
        max_tokens=1500,
        temperature=0.0,
    )


lambda_handler = appsync_operation("parseJobDescription", Arguments, run)
