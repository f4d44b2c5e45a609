-- title: Shopping funnel by product
-- question: For each product, how many shoppers viewed its detail page, added it to their cart and bought it, and what share of the viewers went on to add and to buy?
-- tables: conversions
-- description: Counts shoppers of the advertiser's tracked products in the window, ad-exposed
--   or not. The rates follow the viewers: the share of them who also added the product to
--   their cart, and who also bought it, in the window.
WITH shoppers AS (
  SELECT
    advertiser,
    tracked_asin,
    user_id,
    MAX(CASE WHEN event_subtype = 'detailPageView' THEN 1 ELSE 0 END) AS viewed,
    MAX(CASE WHEN event_subtype = 'shoppingCart' THEN 1 ELSE 0 END) AS added,
    MAX(CASE WHEN event_category = 'purchase' THEN 1 ELSE 0 END) AS bought,
    SUM(CASE WHEN event_category = 'purchase' THEN total_product_sales ELSE 0 END) AS sales
  FROM conversions
  GROUP BY 1, 2, 3
)
SELECT
  advertiser,
  tracked_asin,
  COUNT(DISTINCT CASE WHEN viewed = 1 THEN user_id END) AS viewers,
  COUNT(DISTINCT CASE WHEN added = 1 THEN user_id END) AS cart_adders,
  COUNT(DISTINCT CASE WHEN bought = 1 THEN user_id END) AS buyers,
  SUM(sales) AS sales,
  COUNT(DISTINCT CASE WHEN viewed = 1 AND added = 1 THEN user_id END)
    / COUNT(DISTINCT CASE WHEN viewed = 1 THEN user_id END) AS viewers_adding_rate,
  COUNT(DISTINCT CASE WHEN viewed = 1 AND bought = 1 THEN user_id END)
    / COUNT(DISTINCT CASE WHEN viewed = 1 THEN user_id END) AS viewers_buying_rate
FROM shoppers
GROUP BY 1, 2
