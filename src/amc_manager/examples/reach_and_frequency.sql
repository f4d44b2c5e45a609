-- title: Reach and frequency by campaign
-- question: How many users saw each DSP campaign, and how many times did each of them see it?
-- tables: dsp_impressions
WITH user_frequency AS (
  SELECT campaign, user_id, COUNT(*) AS frequency
  FROM dsp_impressions
  GROUP BY campaign, user_id
)
SELECT
  campaign,
  CASE WHEN frequency >= 10 THEN '10+' ELSE CAST(frequency AS VARCHAR(3)) END AS frequency_bucket,
  COUNT(DISTINCT user_id) AS users,
  SUM(frequency) AS impressions
FROM user_frequency
GROUP BY 1, 2
