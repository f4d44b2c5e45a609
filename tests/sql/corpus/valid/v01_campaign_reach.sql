-- Reach, impressions and spend per campaign.
SELECT
  advertiser,
  campaign,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000.0 AS spend_usd
FROM dsp_impressions
GROUP BY advertiser, campaign
