"""parseCvText: the plain text of a CV becomes a structured candidate profile (ParsedCv).

Extraction, not writing: facts are copied in the CV's own language, dates normalised to YYYY-MM, and whatever
the CV does not say stays null or empty. The result is the ``cv`` argument of the generation operations.
"""

from pydantic import Field

from cv_domain import DATA_RULES, FACT_RULES, MAX_CV_TEXT_CHARS, DomainModel, ParsedCv
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of parseCvText."""

    cv_text: str = Field(
        min_length=1, max_length=MAX_CV_TEXT_CHARS, description="The CV as plain text (e.g. extracted from a PDF)."
    )


SYSTEM_PROMPT = f"""\
You are an expert CV parser for a career assistant. You turn the text of a CV (résumé), in any language and \
layout, into a structured profile by calling the tool you are given.

How to extract:
- Copy facts, do not improve them: names, titles, employers, dates, figures and skills as the CV states them, in \
the CV's own language. Only repair line breaks and spacing broken by PDF extraction.
- Dates: YYYY-MM ("03/2021", "March 2021" -> "2021-03"); YYYY when the CV gives only the year. A position marked \
"present", "current", "today" or similar has isCurrent true and no endDate.
- experiences: one entry per position, most recent first; successive roles at one employer are separate entries. \
Duties go to responsibilities, outcomes (above all those with a figure) to achievements, one concise sentence each.
- skills: per position, the tools and skills that position mentions; at the top level, every skill listed \
anywhere in the CV, once each, without rephrasing.
- languages: native or mother tongue -> NATIVE; fluent, C1, C2 -> FLUENT; B1, B2, professional working \
proficiency -> INTERMEDIATE; A1, A2, basic, notions -> BASIC; null when the CV gives no level.
- profile.summary: the CV's own profile or summary section, condensed; null when the CV has none. Do not write one.
- Ignore page numbers, running headers and footers, and "references available on request".

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> ParsedCv:
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content=f"Parse this CV.\n\n{as_data('CV', args.cv_text)}",
        output_model=ParsedCv,
        # A full CV as JSON is ~1,500-2,000 tokens; 2,500 takes Nova Micro 10-17 s, inside AppSync's 30 s.
        max_tokens=2500,
        temperature=0.0,
    )


lambda_handler = appsync_operation("parseCvText", Arguments, run)
