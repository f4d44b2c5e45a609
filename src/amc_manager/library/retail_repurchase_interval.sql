-- title: Time between repeat purchases
-- question: How many days pass between one purchase of a product and the same customer's next purchase of it?
-- tables: amazon_retail_purchases
-- description: Needs the Amazon Retail Purchases paid feature. Each purchase is compared with
--   the same customer's previous purchase of the same ASIN in the window; a long window (the
--   table keeps 60 months) shows slow cycles. Use it to time re-engagement ads.
WITH ordered AS (
  SELECT
    asin,
    user_id,
    purchase_dt_utc,
    LAG(purchase_dt_utc) OVER (PARTITION BY asin, user_id ORDER BY purchase_dt_utc)
      AS previous_purchase
  FROM amazon_retail_purchases
),
gaps AS (
  SELECT asin, user_id, SECONDS_BETWEEN(previous_purchase, purchase_dt_utc) / 86400 AS days
  FROM ordered
  WHERE previous_purchase IS NOT NULL
)
SELECT
  asin,
  CASE
    WHEN days < 7 THEN '1: under a week'
    WHEN days < 14 THEN '2: 1 to 2 weeks'
    WHEN days < 30 THEN '3: 2 weeks to a month'
    WHEN days < 90 THEN '4: 1 to 3 months'
    ELSE '5: 3 months or more'
  END AS time_between_purchases,
  COUNT(DISTINCT user_id) AS repeat_buyers,
  COUNT(user_id) AS repeat_purchases,
  AVG(days) AS avg_days
FROM gaps
GROUP BY 1, 2
