-- title: Retail sales by purchase program and Prime
-- question: How are each brand's Amazon retail sales split across purchase programs (such as Subscribe and Save) and Prime and non-Prime orders?
-- tables: amazon_retail_purchases
-- description: Needs the Amazon Retail Purchases paid feature. Sales are units times unit price
--   in the order's currency.
SELECT
  asin_brand AS brand,
  purchase_program_name,
  purchase_order_type,
  COUNT(DISTINCT user_id) AS buyers,
  COUNT(DISTINCT purchase_id) AS orders,
  SUM(purchase_units_sold) AS units,
  SUM(purchase_units_sold * unit_price) AS sales
FROM amazon_retail_purchases
GROUP BY 1, 2, 3
