"""generateCv: the parsed CV becomes a polished CV in Markdown, tailored to a job when one is given.

Takes a ParsedCv and, optionally, a JobDescription. Like every document operation it uses the text path: the model
writes Markdown, which ``GeneratedDocument.from_markdown`` wraps with its language and word count (prose written
as Markdown is cheaper and more reliable than prose escaped inside JSON).
"""

from pydantic import Field

from cv_domain import (
    DATA_RULES,
    FACT_RULES,
    DomainModel,
    GeneratedDocument,
    JobDescription,
    Language,
    ParsedCv,
    write_in,
)
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateCv."""

    cv: ParsedCv = Field(description="The candidate's parsed CV.")
    job: JobDescription | None = Field(None, description="The job to tailor the CV to.")
    language: Language = Field(description="The language to write the CV in.")


SYSTEM_PROMPT = f"""\
You are a professional CV writer. From a candidate's parsed CV you write a complete, polished CV in Markdown, \
tailored to a job when one is given.

Format:
- The candidate's name as a level-1 heading, then the headline, then one line with the contact details given.
- Level-2 headings, in this order: Profile, Experience, Skills, Education, then Certifications and Languages when \
there are any; headings in the target language.
- Profile: three or four sentences on who the candidate is and what they bring, aimed at the job when one is given.
- Experience: a level-3 heading per position ("Role, Company, Location"), the dates on the next line in the target \
language's usual format ("Mar 2021 - present"), then three to six bullets starting with action verbs, results with \
figures first.
- Skills: grouped on a few lines (for example languages, cloud, practices).
- One to two pages: about 450 to 800 words. No tables, images, HTML or code fences.

Tailoring, when a job is given: put first what the job asks for, use the job's vocabulary where the CV supports \
it, and leave out details irrelevant to it. Never claim a skill or experience the CV does not contain because the \
job asks for it.

Answer with the CV only: no introduction, no comments, no notes on what you changed.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> GeneratedDocument:
    parts = ["Write the CV.", write_in(args.language), as_data("CV", args.cv.prompt_json())]
    if args.job is not None:
        parts.append(as_data("job description", args.job.prompt_json()))
    markdown = invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(parts),
        # 800 words of Markdown are ~1,100-1,500 tokens depending on the language; 2,000 is 8-13 s.
        max_tokens=2000,
        temperature=0.3,
    )
    return GeneratedDocument.from_markdown(markdown, args.language)


lambda_handler = appsync_operation("generateCv", Arguments, run)
