-- @param min_sales DECIMAL 0.5
-- @param ntb BOOLEAN
-- params: ntb=true
SELECT campaign, SUM(product_sales) AS sales
FROM amazon_attributed_events_by_traffic_time
WHERE new_to_brand = CUSTOM_PARAMETER('ntb')
GROUP BY campaign
HAVING SUM(product_sales) >= CUSTOM_PARAMETER('min_sales')
