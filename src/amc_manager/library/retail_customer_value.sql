-- title: Customer value by first purchased product
-- question: How much do customers spend on the brand over the window, depending on which product they bought first?
-- tables: amazon_retail_purchases
-- description: Needs the Amazon Retail Purchases paid feature. A customer's entry product is
--   the ASIN of their first purchase of the brand in the window; run it over a long window (up
--   to 60 months) for a lifetime-value view.
WITH purchases AS (
  SELECT
    asin_brand,
    asin,
    user_id,
    purchase_dt_utc,
    purchase_units_sold * unit_price AS sales
  FROM amazon_retail_purchases
),
ranked AS (
  SELECT
    asin_brand,
    asin,
    user_id,
    sales,
    ROW_NUMBER() OVER (PARTITION BY asin_brand, user_id ORDER BY purchase_dt_utc, asin)
      AS purchase_number
  FROM purchases
),
customers AS (
  SELECT
    asin_brand,
    user_id,
    MAX(CASE WHEN purchase_number = 1 THEN asin END) AS entry_asin,
    COUNT(purchase_number) AS purchases,
    SUM(sales) AS sales
  FROM ranked
  GROUP BY 1, 2
)
SELECT
  asin_brand AS brand,
  entry_asin,
  COUNT(DISTINCT user_id) AS customers,
  SUM(purchases) AS purchases,
  SUM(sales) AS sales,
  SUM(sales) / COUNT(DISTINCT user_id) AS sales_per_customer,
  SUM(purchases) / COUNT(DISTINCT user_id) AS purchases_per_customer
FROM customers
GROUP BY 1, 2
