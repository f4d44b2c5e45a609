-- expect: 6:3 error: ORDER BY is not supported outside window specifications
WITH totals AS (
  SELECT campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY campaign
  ORDER BY campaign
)
SELECT campaign, impressions, RANK() OVER (ORDER BY impressions DESC) AS position
FROM totals
