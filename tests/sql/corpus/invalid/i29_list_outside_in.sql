-- values: {"campaign": ["a", "b"]}
-- expect: 5:18 error: {{campaign}} is given a list, but a list can only follow IN
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign = {{campaign}}
GROUP BY campaign
