-- title: Click-through vs view-through purchases
-- question: For each campaign, how many attributed purchases and sales followed a click, and how many followed an impression without a click?
-- tables: amazon_attributed_events_by_conversion_time
-- description: AMC credits a purchase to a click when there was one, else to an impression
--   (traffic_event_type). A high view-through share is normal for DSP and streaming TV,
--   unusual for sponsored products.
SELECT
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  campaign,
  COUNT(DISTINCT user_id) AS purchasers,
  SUM(CASE WHEN traffic_event_type = 'click' THEN purchases ELSE 0 END) AS click_purchases,
  SUM(CASE WHEN traffic_event_type = 'click' THEN 0 ELSE purchases END) AS view_purchases,
  SUM(CASE WHEN traffic_event_type = 'click' THEN product_sales ELSE 0 END) AS click_sales,
  SUM(CASE WHEN traffic_event_type = 'click' THEN 0 ELSE product_sales END) AS view_sales,
  SUM(CASE WHEN traffic_event_type = 'click' THEN 0 ELSE purchases END) / SUM(purchases)
    AS view_through_share
FROM amazon_attributed_events_by_conversion_time
WHERE purchases > 0
GROUP BY 1, 2
