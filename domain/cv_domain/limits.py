"""Size limits of the operations' inputs and outputs, in characters.

They bound what one call can cost and how long it can take: every input character is paid for as input tokens,
and AppSync abandons a resolver after 30 s. Arguments beyond a limit are rejected with ``InvalidInput`` naming
the field, before anything is sent to Bedrock.

| constant | value | applies to |
|---|---|---|
| ``MAX_CV_TEXT_CHARS`` | 50,000 | ``cvText`` of parseCvText and extractExperienceBlocks (a long CV is ~15,000) |
| ``MAX_JOB_TEXT_CHARS`` | 30,000 | ``jobText`` of parseJobDescription |
| ``MAX_COMPANY_TEXT_CHARS`` | 30,000 | ``companyText`` of analyzeCompanyInfo |
| ``MAX_NOTES_CHARS`` | 2,000 | free-text guidance: ``focus``, ``careerGoals`` |
| ``MAX_CV_JSON_CHARS`` | 60,000 | a ``ParsedCv`` argument, measured as compact JSON |
| ``MAX_JOB_JSON_CHARS`` | 20,000 | a ``JobDescription`` argument, as compact JSON |
| ``MAX_COMPANY_JSON_CHARS`` | 15,000 | a ``CompanyInfo`` argument, as compact JSON |
| ``SHORT_TEXT_CHARS`` | 200 | names, titles, dates' companions, skills |
| ``SENTENCE_CHARS`` | 600 | one bullet point or one statement |
| ``PARAGRAPH_CHARS`` | 2,500 | summaries and the parts of a STAR story |
| ``MAX_DOCUMENT_CHARS`` | 30,000 | a generated document (more than its ``max_tokens`` can produce) |

Lists have their own maximum lengths, declared on each field, so that structured answers stay bounded too. The
``*_JSON_CHARS`` totals are several times what a parsing operation returns (its ``max_tokens`` bounds it), so they
only refuse arguments a client has inflated.
"""

MAX_CV_TEXT_CHARS = 50_000
MAX_JOB_TEXT_CHARS = 30_000
MAX_COMPANY_TEXT_CHARS = 30_000
MAX_NOTES_CHARS = 2_000

MAX_CV_JSON_CHARS = 60_000
MAX_JOB_JSON_CHARS = 20_000
MAX_COMPANY_JSON_CHARS = 15_000

SHORT_TEXT_CHARS = 200
SENTENCE_CHARS = 600
PARAGRAPH_CHARS = 2_500
MAX_DOCUMENT_CHARS = 30_000
