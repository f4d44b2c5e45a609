-- title: Path to conversion by ad product
-- question: In which order did purchasers meet DSP, sponsored products, brands and display before buying, and what did each path sell?
-- tables: amazon_attributed_events_by_conversion_time
-- description: A path is the ordered list of ad products by first touch, up to four steps.
WITH touches AS (
  -- One row per purchaser and ad product, with the first time the product reached them.
  SELECT
    user_id,
    COALESCE(ad_product_type, 'dsp') AS ad_product,
    MIN(traffic_event_dt_utc) AS first_touch,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS product_sales
  FROM amazon_attributed_events_by_conversion_time
  WHERE purchases > 0
  GROUP BY 1, 2
),
ordered AS (
  SELECT
    user_id,
    ad_product,
    purchases,
    product_sales,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY first_touch, ad_product) AS step
  FROM touches
),
paths AS (
  SELECT
    user_id,
    CONCAT_WS(
      ' > ',
      MAX(CASE WHEN step = 1 THEN ad_product END),
      MAX(CASE WHEN step = 2 THEN ad_product END),
      MAX(CASE WHEN step = 3 THEN ad_product END),
      MAX(CASE WHEN step = 4 THEN ad_product END)
    ) AS path,
    COUNT(ad_product) AS touchpoints,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS product_sales
  FROM ordered
  GROUP BY user_id
)
SELECT
  path,
  touchpoints,
  COUNT(DISTINCT user_id) AS purchasers,
  SUM(purchases) AS purchases,
  SUM(product_sales) AS product_sales,
  SUM(product_sales) / COUNT(DISTINCT user_id) AS sales_per_purchaser
FROM paths
GROUP BY 1, 2
