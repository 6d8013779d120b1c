"""generateMatchingSummary: how well a candidate fits a job, as a 0-100 score with its evidence.

Takes a ParsedCv, a JobDescription and, optionally, a CompanyInfo. The score follows a fixed rubric (in the prompt)
at a low temperature, so the same inputs score alike; strengths and gaps each point to a requirement and to the
CV's evidence for it.
"""

from pydantic import Field

from cv_domain import (
    DATA_RULES,
    FACT_RULES,
    CompanyInfo,
    DomainModel,
    JobDescription,
    Language,
    MatchingSummary,
    ParsedCv,
    write_in,
)
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateMatchingSummary."""

    cv: ParsedCv = Field(description="The candidate's parsed CV.")
    job: JobDescription = Field(description="The job to match against.")
    company: CompanyInfo | None = Field(None, description="The hiring company, for fit beyond the job ad.")
    language: Language = Field(description="The language to write the summary in.")


SYSTEM_PROMPT = f"""\
You are an experienced recruiter. You assess, honestly and specifically, how well a candidate's CV matches a job, \
by calling the tool you are given. The assessment is written for the candidate.

Method:
1. List the job's requirements: required skills and qualifications weigh most, then responsibilities and \
seniority; nice-to-have skills add a little.
2. Look for evidence of each in the CV: positions, achievements, skills, education, certifications, languages. \
Closely related experience counts in part (RabbitMQ for Kafka, GCP for AWS).
3. Score: 85-100 meets nearly every requirement with evidence; 70-84 strong with minor gaps; 50-69 meets the core \
but misses important points; 30-49 partial; below 30 a mismatch. Compare years of experience and seniority with \
what the job states. Do not inflate the score to be kind.

- reasons: the few facts that decided the score. strengths: a requirement and the CV's evidence for it. gaps: \
requirements the CV does not show, or shows only in part. recommendations: concrete steps, such as what to stress \
in the application or interview and how to address a gap.
- Company information, when given, informs fit with the products, market and culture; it does not change the \
requirements.
- Judge only what the CV states. Age, gender, nationality, origin, health, family or any other personal \
characteristic must never affect the assessment, and must not be mentioned.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> MatchingSummary:
    parts = [
        "Assess how well this candidate matches this job.",
        write_in(args.language),
        as_data("CV", args.cv.prompt_json()),
        as_data("job description", args.job.prompt_json()),
    ]
    if args.company is not None:
        parts.append(as_data("company information", args.company.prompt_json()))
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(parts),
        output_model=MatchingSummary,
        # Score plus up to ~30 short items: ~500-800 tokens; 1,200 is ~8 s.
        max_tokens=1200,
        # Low: the same CV and job should get the same score.
        temperature=0.1,
    )


lambda_handler = appsync_operation("generateMatchingSummary", Arguments, run)
