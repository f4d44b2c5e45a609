-- title: Overlap of DSP and sponsored ads audiences
-- question: How many users were reached by DSP only, by sponsored ads only, and by both?
-- tables: dsp_impressions, sponsored_ads_traffic
WITH dsp AS (
  SELECT user_id, SUM(impressions) AS dsp_impressions FROM dsp_impressions GROUP BY user_id
),
sa AS (
  SELECT user_id, SUM(impressions) AS sa_impressions FROM sponsored_ads_traffic GROUP BY user_id
),
joined AS (
  SELECT
    COALESCE(dsp.user_id, sa.user_id) AS user_id,
    COALESCE(dsp.dsp_impressions, 0) AS dsp_impressions,
    COALESCE(sa.sa_impressions, 0) AS sa_impressions
  FROM dsp FULL OUTER JOIN sa ON dsp.user_id = sa.user_id
)
SELECT
  CASE
    WHEN dsp_impressions > 0 AND sa_impressions > 0 THEN 'both'
    WHEN dsp_impressions > 0 THEN 'dsp only'
    ELSE 'sponsored ads only'
  END AS exposure,
  COUNT(DISTINCT user_id) AS users,
  SUM(dsp_impressions) AS dsp_impressions,
  SUM(sa_impressions) AS sponsored_ads_impressions
FROM joined
GROUP BY 1
