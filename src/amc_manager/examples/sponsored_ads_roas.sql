-- title: Sponsored ads ROAS and ACOS by ad product
-- question: What did sponsored products, brands and display each cost and sell (ROAS, ACOS)?
-- tables: amazon_attributed_events_by_traffic_time, sponsored_ads_traffic
-- description: Sales are by traffic time, as sponsored ads reports count them; spend is in microcents.
WITH spend AS (
  SELECT
    ad_product_type,
    SUM(impressions) AS impressions,
    SUM(clicks) AS clicks,
    SUM(spend) / 100000000.0 AS spend_usd
  FROM sponsored_ads_traffic
  GROUP BY 1
),
sales AS (
  SELECT
    ad_product_type,
    COUNT(DISTINCT user_id) AS purchasers,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS product_sales
  FROM amazon_attributed_events_by_traffic_time
  WHERE ad_product_type IS NOT NULL
  GROUP BY 1
)
SELECT
  s.ad_product_type,
  SUM(s.impressions) AS impressions,
  SUM(s.clicks) AS clicks,
  SUM(s.spend_usd) AS spend_usd,
  SUM(a.purchasers) AS purchasers,
  SUM(a.purchases) AS purchases,
  SUM(a.product_sales) AS product_sales,
  SUM(a.product_sales) / SUM(s.spend_usd) AS roas,
  SUM(s.spend_usd) / SUM(a.product_sales) AS acos
FROM spend s
LEFT JOIN sales a ON s.ad_product_type = a.ad_product_type
GROUP BY 1
