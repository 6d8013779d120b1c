"""The twelve operations the project promises: GraphQL field -> function folder. Written out here, not derived
from the code, so that the tests check the code against the specification."""

OPERATIONS: dict[str, str] = {
    "parseCvText": "parse_cv_text",
    "extractExperienceBlocks": "extract_experience_blocks",
    "generateStarStory": "generate_star_story",
    "generateAchievementsAndKpis": "generate_achievements_and_kpis",
    "generatePersonalCanvas": "generate_personal_canvas",
    "generateCv": "generate_cv",
    "parseJobDescription": "parse_job_description",
    "analyzeCompanyInfo": "analyze_company_info",
    "generateCompanyCanvas": "generate_company_canvas",
    "generateMatchingSummary": "generate_matching_summary",
    "generateSpeech": "generate_speech",
    "generateCoverLetter": "generate_cover_letter",
}
