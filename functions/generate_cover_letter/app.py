"""generateCoverLetter: a cover letter for the candidate applying to a job, ready to send.

Takes a ParsedCv, a JobDescription and, optionally, a CompanyInfo; written in the requested language (with its
letter conventions) and tone. Text path like every document operation: the model writes Markdown,
``GeneratedDocument.from_markdown`` adds its language and word count.
"""

from pydantic import Field

from cv_domain import (
    DATA_RULES,
    FACT_RULES,
    CompanyInfo,
    DomainModel,
    GeneratedDocument,
    JobDescription,
    Language,
    ParsedCv,
    Tone,
    in_tone,
    write_in,
)
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateCoverLetter."""

    cv: ParsedCv = Field(description="The candidate's parsed CV.")
    job: JobDescription = Field(description="The job applied for.")
    company: CompanyInfo | None = Field(None, description="The hiring company, to say specifically why it.")
    language: Language = Field(description="The language to write the letter in.")
    tone: Tone = Field(description="The tone of voice.")


SYSTEM_PROMPT = f"""\
You are a professional cover-letter writer. You write the candidate's cover letter for the job, in Markdown, \
tailored to the job and, when information about it is given, to the company.

- 250 to 400 words in three to five paragraphs, ready to send: salutation, body, closing formula and the \
candidate's name, following the letter conventions of the target language. Address the company's hiring team \
unless the job names a contact person; never invent a name, an address or a date.
- Opening: the role applied for and, in one sentence, why this candidate fits it.
- Body: two or three of the job's most important requirements, each matched with concrete evidence from the CV (an \
achievement, with its figure when the CV gives one). Then why this company, specifically, from the company \
information or the job ad; no generic praise.
- Closing: availability for an interview, and thanks.
- Do not repeat the CV line by line, do not point out gaps or missing skills, and never claim a skill or \
experience the CV does not show.
- Plain paragraphs only: no headings, bullet lists or placeholders in brackets.

Answer with the letter only.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> GeneratedDocument:
    parts = [
        "Write the cover letter.",
        write_in(args.language),
        in_tone(args.tone),
        as_data("CV", args.cv.prompt_json()),
        as_data("job description", args.job.prompt_json()),
    ]
    if args.company is not None:
        parts.append(as_data("company information", args.company.prompt_json()))
    letter = invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(parts),
        # 400 words are ~550-800 tokens depending on the language; 1,200 is ~8 s.
        max_tokens=1200,
        temperature=0.5,
    )
    return GeneratedDocument.from_markdown(letter, args.language)


lambda_handler = appsync_operation("generateCoverLetter", Arguments, run)
