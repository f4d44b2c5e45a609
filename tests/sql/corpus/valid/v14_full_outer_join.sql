-- Campaigns seen in DSP or sponsored ads, with a full outer join.
WITH dsp AS (
  SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign
),
sa AS (
  SELECT campaign, SUM(impressions) AS impressions FROM sponsored_ads_traffic GROUP BY campaign
)
SELECT
  COALESCE(dsp.campaign, sa.campaign) AS campaign,
  SUM(dsp.impressions) AS dsp_impressions,
  SUM(sa.impressions) AS sa_impressions
FROM dsp
FULL OUTER JOIN sa ON dsp.campaign = sa.campaign
GROUP BY 1
