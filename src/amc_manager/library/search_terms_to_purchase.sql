-- title: Search terms that lead to purchases
-- question: Which shopper search terms led to a sponsored ads click that was followed by a purchase, and how often?
-- tables: sponsored_ads_traffic, conversions
-- description: A clicking user counts as a purchaser of a term when they bought any tracked
--   product of the advertiser within max_days_to_purchase days after their first click on it.
--   This is not attribution: read it as where buying journeys start.
-- @param max_days_to_purchase LONG 14
WITH clicked AS (
  SELECT
    customer_search_term,
    user_id,
    MIN(event_dt_utc) AS first_click,
    SUM(clicks) AS clicks,
    SUM(spend) AS spend
  FROM sponsored_ads_traffic
  WHERE clicks > 0 AND customer_search_term IS NOT NULL
  GROUP BY 1, 2
),
purchased AS (
  SELECT user_id, event_dt_utc AS purchase_time, conversions, total_product_sales
  FROM conversions
  WHERE event_category = 'purchase'
),
journeys AS (
  SELECT
    c.customer_search_term,
    c.user_id,
    SUM(p.conversions) AS purchases,
    SUM(p.total_product_sales) AS sales
  FROM clicked c
  JOIN purchased p
    ON c.user_id = p.user_id
    AND p.purchase_time >= c.first_click
    AND SECONDS_BETWEEN(c.first_click, p.purchase_time)
      <= CUSTOM_PARAMETER('max_days_to_purchase') * 86400
  GROUP BY 1, 2
)
SELECT
  c.customer_search_term,
  COUNT(DISTINCT c.user_id) AS clicking_users,
  SUM(c.clicks) AS clicks,
  SUM(c.spend) / 100000000.0 AS spend_usd,
  COUNT(DISTINCT j.user_id) AS purchasers,
  COUNT(DISTINCT j.user_id) / COUNT(DISTINCT c.user_id) AS purchaser_rate,
  SUM(j.purchases) AS purchases,
  SUM(j.sales) AS sales
FROM clicked c
LEFT JOIN journeys j
  ON c.customer_search_term = j.customer_search_term AND c.user_id = j.user_id
GROUP BY 1
