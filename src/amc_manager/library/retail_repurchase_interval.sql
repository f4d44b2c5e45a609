-- title: Time between repeat purchases
-- question: How many days pass between a customer's purchase of a brand on Amazon and their next purchase of the same brand?
-- tables: amazon_retail_purchases
-- description: Needs the Amazon Retail Purchases paid feature. Each purchase is compared with
--   the same customer's previous purchase of the brand in the window; a long window (the table
--   keeps 60 months) shows slow cycles. Use it to time replenishment and re-engagement ads.
WITH numbered AS (
  SELECT
    asin_brand,
    user_id,
    purchase_dt_utc,
    ROW_NUMBER() OVER (PARTITION BY asin_brand, user_id ORDER BY purchase_dt_utc)
      AS purchase_number
  FROM amazon_retail_purchases
),
gaps AS (
  SELECT
    later.asin_brand,
    later.user_id,
    SECONDS_BETWEEN(earlier.purchase_dt_utc, later.purchase_dt_utc) / 86400 AS days
  FROM numbered later
  JOIN numbered earlier
    ON later.asin_brand = earlier.asin_brand
    AND later.user_id = earlier.user_id
    AND later.purchase_number = earlier.purchase_number + 1
)
SELECT
  asin_brand AS brand,
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
