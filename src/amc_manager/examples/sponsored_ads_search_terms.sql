-- title: Sponsored ads search terms
-- question: Which shopper search terms and keywords earn sponsored ads impressions and clicks, at what cost per click?
-- tables: sponsored_ads_traffic
SELECT
  ad_product_type,
  campaign,
  targeting,
  match_type,
  customer_search_term,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(clicks) / SUM(impressions) AS click_through_rate,
  SUM(spend) / 100000000.0 AS spend_usd,
  SUM(spend) / 100000000.0 / SUM(clicks) AS cost_per_click_usd
FROM sponsored_ads_traffic
WHERE customer_search_term IS NOT NULL
  AND ad_product_type IN ('sponsored_products', 'sponsored_brands')
GROUP BY 1, 2, 3, 4, 5
