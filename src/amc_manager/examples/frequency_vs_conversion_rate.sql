-- title: Frequency vs conversion rate
-- question: At what DSP impression frequency does the share of reached users who purchase stop growing?
-- tables: conversions, dsp_impressions
-- description: Users are bucketed by their impressions over the whole window; purchases come from the conversions table.
WITH exposure AS (
  SELECT user_id, SUM(impressions) AS frequency
  FROM dsp_impressions
  GROUP BY user_id
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases, SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY user_id
)
SELECT
  CASE
    WHEN e.frequency <= 2 THEN '001-002'
    WHEN e.frequency <= 5 THEN '003-005'
    WHEN e.frequency <= 10 THEN '006-010'
    WHEN e.frequency <= 20 THEN '011-020'
    WHEN e.frequency <= 50 THEN '021-050'
    WHEN e.frequency <= 100 THEN '051-100'
    ELSE '101+'
  END AS frequency_bucket,
  COUNT(DISTINCT e.user_id) AS reached_users,
  SUM(e.frequency) AS impressions,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT e.user_id) AS conversion_rate,
  SUM(b.purchases) AS purchases,
  SUM(b.sales) AS sales
FROM exposure e
LEFT JOIN buyers b ON e.user_id = b.user_id
GROUP BY 1
