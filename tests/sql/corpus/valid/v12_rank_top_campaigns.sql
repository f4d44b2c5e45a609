-- Top rows with RANK() in a sub-query instead of ORDER BY ... LIMIT.
WITH totals AS (
  SELECT campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY campaign
),
ranked AS (
  SELECT campaign, impressions, RANK() OVER (ORDER BY impressions DESC) AS position
  FROM totals
)
SELECT campaign, impressions, position
FROM ranked
WHERE position <= 3
