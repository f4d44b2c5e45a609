-- expect: 2:6 error: 'totals' names 3 columns but its query returns 2
WITH totals (campaign, impressions, clicks) AS (
  SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY campaign
)
SELECT campaign, SUM(impressions) AS impressions FROM totals GROUP BY campaign
