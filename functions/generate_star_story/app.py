"""generateStarStory: one position of the CV becomes an interview story in the STAR format.

Takes an ExperienceBlock (from parseCvText or extractExperienceBlocks) and, optionally, what the story should be
about. The story is told in the first person and in the requested language, from the position's facts only.
"""

from pydantic import Field

from cv_domain import (
    DATA_RULES,
    FACT_RULES,
    MAX_NOTES_CHARS,
    DomainModel,
    ExperienceBlock,
    Language,
    StarStory,
    write_in,
)
from tracked_bedrock import appsync_operation, as_data, invoke_bedrock


class Arguments(DomainModel):
    """The arguments of generateStarStory."""

    experience: ExperienceBlock = Field(description="The position the story comes from.")
    focus: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_NOTES_CHARS,
        description="What the story should show (an achievement, a competency); null picks the strongest result.",
    )
    language: Language = Field(description="The language to write the story in.")


SYSTEM_PROMPT = f"""\
You are an interview coach. From one position of a candidate's CV you write a STAR story (Situation, Task, Action, \
Result) the candidate can tell in a job interview, by calling the tool you are given.

- Build the story on one concrete achievement of the position: the one the focus names, otherwise the strongest \
achievement, preferably one with a measurable result. If the focus is not supported by the position, tell the \
supported story closest to it.
- First person singular, as the candidate would say it: natural spoken sentences, not CV bullet points, and "I" \
rather than "we" for the candidate's own part.
- situation and task: two or three sentences each. action: the longest part, the concrete steps the candidate \
took and the reasons for their decisions. result: the outcome with the figures the position states, and what it \
meant for the team or the business.
- You may connect and explain the facts, but not add any: no invented figures, team sizes, tools, names or \
outcomes. When the position states no measurable result, describe the result in words, from what it does state.
- skillsDemonstrated: the skills and qualities the story gives evidence of.

{FACT_RULES}

{DATA_RULES}"""


def run(args: Arguments) -> StarStory:
    parts = [
        "Write a STAR story from this position.",
        write_in(args.language),
        as_data("position", args.experience.prompt_json()),
    ]
    if args.focus is not None:
        parts.append(as_data("focus", args.focus))
    return invoke_bedrock(
        system_prompt=SYSTEM_PROMPT,
        user_content="\n\n".join(parts),
        output_model=StarStory,
        # A story of 200-350 words is ~500-700 tokens; 1,000 leaves room for wordier languages, ~6 s.
        max_tokens=1000,
        temperature=0.4,
    )


lambda_handler = appsync_operation("generateStarStory", Arguments, run)
