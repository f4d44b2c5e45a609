-- title: Sponsored ads performance by placement
-- question: How do top of search, product pages and other placements compare in impressions, clicks, cost per click and click-through rate for each sponsored ads product?
-- tables: sponsored_ads_traffic
-- description: Spend is in microcents in the table and in dollars here. Use it to set placement
--   bid adjustments: a placement with a much higher CTR at a similar CPC deserves more bid.
SELECT
  ad_product_type,
  placement_type,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000.0 AS spend_usd,
  SUM(clicks) / SUM(impressions) AS click_through_rate,
  SUM(spend) / 100000000.0 / SUM(clicks) AS cost_per_click_usd
FROM sponsored_ads_traffic
GROUP BY 1, 2
