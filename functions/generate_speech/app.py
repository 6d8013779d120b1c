"""generateSpeech: a short self-presentation for the candidate to say out loud, of a chosen length.

For an interview opening ("Tell me about yourself"), a networking event or a video application; tailored to a job
and company when they are given, in the requested language and tone. Text path like every document operation: the
model writes the speech, ``Speech.from_markdown`` adds its word count and speaking time.
"""

from pydantic import Field

from cv_domain import (
    DATA_RULES,
    FACT_RULES,
    MAX_SPEECH_SECONDS,
    MIN_SPEECH_SECONDS,
    SPEAKING_WORDS_PER_MINUTE,
    CompanyInfo,
    DomainModel,
    JobDescription,
    Language,
    ParsedCv,
    Speech,
    Tone,
    in_tone,
    write_in,
)
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateSpeech."""

    cv: ParsedCv = Field(description="The candidate's parsed CV.")
    job: JobDescription | None = Field(None, description="The job the speech is for.")
    company: CompanyInfo | None = Field(None, description="The company the speech is for.")
    target_duration_seconds: int = Field(
        ge=MIN_SPEECH_SECONDS, le=MAX_SPEECH_SECONDS, description="How long the speech should last when spoken."
    )
    language: Language = Field(description="The language to write the speech in.")
    tone: Tone = Field(description="The tone of voice.")


SYSTEM_PROMPT = f"""\
You are a speaking coach. You write a short speech in which a candidate introduces themselves, for an interview \
opening ("Tell me about yourself"), a networking event or a video application, tailored to a job and a company when \
they are given.

- Written to be said out loud, in the first person: short sentences, natural transitions; no headings, bullet \
points, stage directions or emojis. Paragraphs separated by blank lines.
- Structure: who I am today; the two or three experiences or achievements that matter most to the audience, with \
one concrete figure when the CV has one; why this job or company is the right next step; a clear closing sentence.
- Length: as close as possible to the number of words asked for, never more than 10% over.
- When a job or a company is given, connect the candidate's experience to what they need; otherwise aim at the \
role in the candidate's headline.
- Only experience, skills and results from the CV: no invented anecdotes or motivations.

Answer with the speech only.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> Speech:
    words = args.target_duration_seconds * SPEAKING_WORDS_PER_MINUTE // 60
    parts = [
        f"Write a speech of about {words} words ({args.target_duration_seconds} seconds spoken).",
        write_in(args.language),
        in_tone(args.tone),
        as_data("CV", args.cv.prompt_json()),
    ]
    if args.job is not None:
        parts.append(as_data("job description", args.job.prompt_json()))
    if args.company is not None:
        parts.append(as_data("company information", args.company.prompt_json()))
    speech = invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(parts),
        # Five minutes is 650 words, ~900-1,300 tokens depending on the language; 1,500 is under 10 s.
        max_tokens=1500,
        temperature=0.6,
    )
    return Speech.from_markdown(speech, args.language)


lambda_handler = appsync_operation("generateSpeech", Arguments, run)
