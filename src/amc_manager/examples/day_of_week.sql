-- title: Purchases by day of week
-- question: On which weekdays (US Eastern time) do ad-attributed purchases happen, for DSP and for sponsored ads?
-- tables: amazon_attributed_events_by_conversion_time
-- description: Change the time zone in CONVERT_TIME_ZONE_FROM_UTC for other markets.
SELECT
  DATE_FORMAT(
    CONVERT_TIME_ZONE_FROM_UTC(conversion_event_dt_utc, 'America/New_York'), 'EEEE'
  ) AS day_of_week,
  CASE WHEN ad_product_type IS NULL THEN 'dsp' ELSE 'sponsored ads' END AS channel,
  COUNT(DISTINCT user_id) AS purchasers,
  SUM(purchases) AS purchases,
  SUM(units_sold) AS units_sold,
  SUM(product_sales) AS product_sales
FROM amazon_attributed_events_by_conversion_time
WHERE purchases > 0
GROUP BY 1, 2
