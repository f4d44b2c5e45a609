-- title: Time to conversion
-- question: How long after the ad impression or click do attributed purchases happen?
-- tables: amazon_attributed_events_by_conversion_time
-- description: Buckets run from under 6 hours to the 14-day attribution window.
WITH lags AS (
  SELECT
    user_id,
    traffic_event_type,
    purchases,
    product_sales,
    SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) AS seconds_to_conversion
  FROM amazon_attributed_events_by_conversion_time
  WHERE purchases > 0
)
SELECT
  CASE
    WHEN seconds_to_conversion < 6 * 3600 THEN '1: under 6 hours'
    WHEN seconds_to_conversion < 86400 THEN '2: 6 to 24 hours'
    WHEN seconds_to_conversion < 3 * 86400 THEN '3: 1 to 3 days'
    WHEN seconds_to_conversion < 7 * 86400 THEN '4: 3 to 7 days'
    ELSE '5: 7 to 14 days'
  END AS time_to_conversion,
  COUNT(DISTINCT user_id) AS purchasers,
  COUNT(DISTINCT CASE WHEN traffic_event_type = 'click' THEN user_id END) AS purchasers_after_click,
  SUM(purchases) AS purchases,
  SUM(product_sales) AS product_sales,
  AVG(seconds_to_conversion) / 3600.0 AS avg_hours_to_conversion
FROM lags
GROUP BY 1
