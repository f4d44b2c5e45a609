-- title: Purchase frequency per brand
-- question: How many customers bought from each brand once, twice, three times or more in the window, and how much did each group spend?
-- tables: conversions
-- description: Counts purchase events of the advertiser's tracked products, whether or not ads
--   were involved. Customers buying four times or more share one row.
WITH per_customer AS (
  SELECT
    advertiser,
    user_id,
    SUM(conversions) AS purchases,
    SUM(total_units_sold) AS units,
    SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1, 2
)
SELECT
  advertiser,
  CASE WHEN purchases >= 4 THEN '4+' ELSE CAST(purchases AS VARCHAR(2)) END
    AS purchases_per_customer,
  COUNT(DISTINCT user_id) AS customers,
  SUM(purchases) AS purchases,
  SUM(units) AS units,
  SUM(sales) AS sales,
  SUM(sales) / COUNT(DISTINCT user_id) AS sales_per_customer
FROM per_customer
GROUP BY 1, 2
