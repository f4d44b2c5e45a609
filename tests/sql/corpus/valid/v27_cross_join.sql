-- Share of total with a CROSS JOIN of two aggregates.
WITH per_campaign AS (
  SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign
),
total AS (
  SELECT SUM(impressions) AS all_impressions FROM dsp_impressions
)
SELECT p.campaign, p.impressions / t.all_impressions AS share
FROM per_campaign p
CROSS JOIN total t
