-- title: Ad-exposed share of all conversions
-- question: What share of all purchases and sales of each tracked product came from customers exposed to ads, and what share came without any ad exposure?
-- tables: conversions_all
-- description: Needs the paid conversions_all table. It holds every conversion of the tracked
--   products, with exposure_type telling whether the customer saw an ad of the advertiser in
--   the 28 days before.
SELECT
  tracked_asin,
  exposure_type,
  COUNT(DISTINCT user_id) AS customers,
  SUM(conversions) AS purchases,
  SUM(total_units_sold) AS units,
  SUM(total_product_sales) AS sales,
  SUM(total_product_sales) / SUM(SUM(total_product_sales)) OVER (PARTITION BY tracked_asin)
    AS share_of_sales
FROM conversions_all
WHERE event_category = 'purchase'
GROUP BY 1, 2
