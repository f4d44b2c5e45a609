-- title: DSP campaign performance
-- question: How many impressions, users reached and spend did each DSP campaign have, at what CPM?
-- tables: dsp_impressions
-- description: Spend is total_cost (millicents, fees included) converted to dollars.
SELECT
  advertiser,
  campaign,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach,
  SUM(total_cost) / 100000.0 AS spend_usd,
  SUM(total_cost) / NULLIF(SUM(impressions), 0) / 100.0 AS cpm_usd
FROM dsp_impressions
GROUP BY advertiser, campaign
