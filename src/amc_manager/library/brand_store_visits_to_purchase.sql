-- title: Brand Store visits and purchases
-- question: Which Brand Store pages draw visitors, how long do they stay, and what share of each page's visitors buy the brand's products?
-- tables: amazon_brand_store_page_views, conversions
-- description: Needs the Amazon Brand Store Insights paid feature. Purchases of the
--   advertisers' products come from the conversions table and may come before or after the
--   visit within the window.
WITH visitors AS (
  SELECT
    store_name,
    page_title,
    user_id,
    COUNT(DISTINCT visit_id) AS visits,
    SUM(dwell_time) AS dwell_seconds
  FROM amazon_brand_store_page_views
  GROUP BY 1, 2, 3
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases, SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1
)
SELECT
  v.store_name,
  v.page_title,
  COUNT(DISTINCT v.user_id) AS visitors,
  SUM(v.visits) AS visits,
  SUM(v.dwell_seconds) / SUM(v.visits) AS avg_dwell_seconds,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT v.user_id) AS purchase_rate,
  SUM(b.sales) AS sales
FROM visitors v
LEFT JOIN buyers b ON v.user_id = b.user_id
GROUP BY 1, 2
