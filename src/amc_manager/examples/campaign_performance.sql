-- Campaign performance: DSP delivery, cost and reach per campaign.
SELECT
  advertiser,
  campaign,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach,
  SUM(total_cost) / 100000.0 AS spend_usd,
  SUM(total_cost) / NULLIF(SUM(impressions), 0) / 100.0 AS cpm_usd
FROM dsp_impressions
GROUP BY advertiser, campaign
