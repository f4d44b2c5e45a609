-- Average seconds from ad to purchase.
SELECT
  campaign,
  AVG(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc)) AS avg_seconds,
  SUM(purchases) AS purchases
FROM amazon_attributed_events_by_conversion_time
WHERE purchases > 0
GROUP BY campaign
