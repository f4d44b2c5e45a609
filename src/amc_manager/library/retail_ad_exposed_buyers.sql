-- title: Ad-exposed share of a brand's retail buyers
-- question: Of all customers who bought each brand's products on Amazon, how many had seen its DSP or sponsored ads in the window, and how much more did they spend?
-- tables: amazon_retail_purchases, dsp_impressions, sponsored_ads_traffic
-- description: Needs the Amazon Retail Purchases paid feature. Retail purchases count every
--   order of the brand's ASINs, advertised or not; a buyer is ad-exposed when any DSP or
--   sponsored ads impression reached them in the window.
WITH buyers AS (
  SELECT
    asin_brand,
    user_id,
    COUNT(DISTINCT purchase_id) AS orders,
    SUM(purchase_units_sold) AS units,
    SUM(purchase_units_sold * unit_price) AS sales
  FROM amazon_retail_purchases
  GROUP BY 1, 2
),
exposed AS (
  SELECT user_id, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY 1
  UNION ALL
  SELECT user_id, SUM(impressions) AS impressions FROM sponsored_ads_traffic GROUP BY 1
),
exposure AS (
  SELECT user_id, SUM(impressions) AS impressions FROM exposed GROUP BY 1
)
SELECT
  b.asin_brand AS brand,
  CASE WHEN x.impressions > 0 THEN 'ad-exposed' ELSE 'not exposed' END AS exposure,
  COUNT(DISTINCT b.user_id) AS buyers,
  SUM(b.orders) AS orders,
  SUM(b.units) AS units,
  SUM(b.sales) AS sales,
  SUM(b.sales) / COUNT(DISTINCT b.user_id) AS sales_per_buyer
FROM buyers b
LEFT JOIN exposure x ON b.user_id = x.user_id
GROUP BY 1, 2
