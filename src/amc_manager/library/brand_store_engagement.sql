-- title: Brand Store widget engagement
-- question: Which Brand Store widgets and pages get interactions, of which kind, and from how many shoppers?
-- tables: amazon_brand_store_engagement_events
-- description: Needs the Amazon Brand Store Insights paid feature. One row per page, widget and
--   kind of interaction (event_type).
SELECT
  store_name,
  page_title,
  widget_type,
  event_type,
  COUNT(DISTINCT user_id) AS shoppers,
  COUNT(DISTINCT session_id) AS sessions,
  COUNT(DISTINCT asin) AS asins
FROM amazon_brand_store_engagement_events
GROUP BY 1, 2, 3, 4
