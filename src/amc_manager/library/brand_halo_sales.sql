-- title: Brand halo sales by campaign
-- question: How much of each campaign's attributed sales came from the promoted products, and how much from other products of the same brand (the halo)?
-- tables: amazon_attributed_events_by_traffic_time
-- description: purchases and product_sales count the promoted (tracked) products only; the
--   total_ columns add the brand's other products, so the difference is the halo. Sales are
--   by traffic time: the window selects the ad events, conversions follow up to 14 days later.
SELECT
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  campaign,
  COUNT(DISTINCT user_id) AS purchasers,
  SUM(purchases) AS promoted_purchases,
  SUM(total_purchases) - SUM(purchases) AS halo_purchases,
  SUM(product_sales) AS promoted_sales,
  SUM(total_product_sales) - SUM(product_sales) AS halo_sales,
  (SUM(total_product_sales) - SUM(product_sales)) / SUM(total_product_sales) AS halo_share
FROM amazon_attributed_events_by_traffic_time
WHERE total_purchases > 0
GROUP BY 1, 2
