-- title: ASIN sales and the share credited to ads
-- question: How much did each ASIN sell (purchases, units, sales, new-to-brand buyers), and what share of those sales did ads get credit for?
-- tables: amazon_attributed_events_by_conversion_time, conversions
-- description: All purchases come from the conversions table; the credited share divides the attributed sales of amazon_attributed_events_by_conversion_time by them.
WITH all_sales AS (
  SELECT
    advertiser,
    tracked_asin,
    COUNT(DISTINCT user_id) AS buyers,
    COUNT(DISTINCT CASE WHEN new_to_brand THEN user_id END) AS ntb_buyers,
    SUM(conversions) AS purchases,
    SUM(total_units_sold) AS units_sold,
    SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1, 2
),
ad_sales AS (
  SELECT tracked_asin, SUM(product_sales) AS attributed_sales
  FROM amazon_attributed_events_by_conversion_time
  WHERE purchases > 0
  GROUP BY 1
)
SELECT
  s.advertiser,
  s.tracked_asin,
  SUM(s.buyers) AS buyers,
  SUM(s.ntb_buyers) AS ntb_buyers,
  SUM(s.purchases) AS purchases,
  SUM(s.units_sold) AS units_sold,
  SUM(s.sales) AS sales,
  SUM(a.attributed_sales) AS ad_attributed_sales,
  SUM(a.attributed_sales) / SUM(s.sales) AS ad_attributed_share
FROM all_sales s
LEFT JOIN ad_sales a ON s.tracked_asin = a.tracked_asin
GROUP BY 1, 2
