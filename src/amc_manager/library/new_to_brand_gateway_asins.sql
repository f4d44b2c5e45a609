-- title: Gateway ASINs of new-to-brand customers
-- question: Which products do customers new to a brand buy first, and how many of those customers buy from the brand again within the window?
-- tables: conversions
-- description: A customer's gateway ASIN is the product of their first new-to-brand purchase in
--   the window (ties count each product). Returning customers bought from the same brand again
--   later in the window; a longer window shows more of them.
WITH purchases AS (
  SELECT advertiser, user_id, tracked_asin, new_to_brand, event_dt_utc, conversions,
    total_product_sales
  FROM conversions
  WHERE event_category = 'purchase'
),
firsts AS (
  SELECT advertiser, user_id, MIN(event_dt_utc) AS first_purchase
  FROM purchases
  WHERE new_to_brand
  GROUP BY 1, 2
),
gateway AS (
  SELECT p.advertiser, p.tracked_asin, p.user_id, f.first_purchase,
    SUM(p.total_product_sales) AS first_sales
  FROM purchases p
  JOIN firsts f
    ON p.advertiser = f.advertiser AND p.user_id = f.user_id
    AND p.event_dt_utc = f.first_purchase
  GROUP BY 1, 2, 3, 4
),
repeaters AS (
  SELECT g.advertiser, g.tracked_asin, g.user_id, SUM(p.conversions) AS later_purchases,
    SUM(p.total_product_sales) AS later_sales
  FROM gateway g
  JOIN purchases p
    ON g.advertiser = p.advertiser AND g.user_id = p.user_id
    AND p.event_dt_utc > g.first_purchase
  GROUP BY 1, 2, 3
)
SELECT
  g.advertiser,
  g.tracked_asin AS gateway_asin,
  COUNT(DISTINCT g.user_id) AS ntb_customers,
  SUM(g.first_sales) AS first_purchase_sales,
  COUNT(DISTINCT r.user_id) AS returning_customers,
  COUNT(DISTINCT r.user_id) / COUNT(DISTINCT g.user_id) AS returning_rate,
  SUM(r.later_purchases) AS later_purchases,
  SUM(r.later_sales) AS later_sales
FROM gateway g
LEFT JOIN repeaters r
  ON g.advertiser = r.advertiser AND g.tracked_asin = r.tracked_asin AND g.user_id = r.user_id
GROUP BY 1, 2
