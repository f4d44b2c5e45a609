-- A {{placeholder}} in a comment is not substituted: {{not_a_parameter}}
/* nor in a block comment: {{also_not}} */
-- values: {"label": "x"}
SELECT {{label}} AS label, CONCAT(campaign, ' {{ ') AS braces, SUM(impressions) AS impressions
FROM dsp_impressions -- trailing comment {{ignored}}
GROUP BY campaign
