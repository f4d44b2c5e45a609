-- title: DSP delivery and purchases by US state
-- question: Where (by US state) did DSP reach users, at what spend, and how many of them purchased?
-- tables: amazon_attributed_events_by_conversion_time, dsp_impressions
-- description: State is a LOW column; postal codes, cities and DMAs are HIGH and cannot be filtered with literal values.
WITH reached AS (
  SELECT
    iso_state_province_code AS state,
    user_id,
    SUM(impressions) AS impressions,
    SUM(total_cost) AS total_cost
  FROM dsp_impressions
  WHERE iso_country_code = 'US'
  GROUP BY 1, 2
),
buyers AS (
  SELECT user_id, SUM(purchases) AS purchases, SUM(product_sales) AS product_sales
  FROM amazon_attributed_events_by_conversion_time
  WHERE ad_product_type IS NULL AND purchases > 0
  GROUP BY user_id
)
SELECT
  r.state,
  COUNT(DISTINCT r.user_id) AS reach,
  SUM(r.impressions) AS impressions,
  SUM(r.total_cost) / 100000.0 AS spend_usd,
  COUNT(DISTINCT b.user_id) AS purchasers,
  SUM(b.purchases) AS purchases,
  SUM(b.product_sales) AS product_sales
FROM reached r
LEFT JOIN buyers b ON r.user_id = b.user_id
GROUP BY 1
