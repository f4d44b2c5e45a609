-- @param asins ARRAY<STRING> ["tracked_asin_0", "tracked_asin_1"]
-- An ARRAY parameter read by IN.
SELECT tracked_asin, SUM(purchases) AS purchases
FROM amazon_attributed_events_by_conversion_time
WHERE tracked_asin IN (CUSTOM_PARAMETER('asins'))
GROUP BY tracked_asin
