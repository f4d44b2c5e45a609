-- @param min_units LONG 0
-- values: {"categories": ["conversion_event_category_0", "conversion_event_category_1"]}
SELECT conversion_event_category, SUM(units_sold) AS units
FROM amazon_attributed_events_by_conversion_time
WHERE conversion_event_category IN {{categories}}
GROUP BY conversion_event_category
HAVING SUM(units_sold) >= CUSTOM_PARAMETER('min_units')
