-- title: New-to-brand purchases by campaign
-- question: How many purchasers, purchases and sales did each campaign bring from customers new to the brand?
-- tables: amazon_attributed_events_by_conversion_time
-- description: New to brand means no purchase of the brand in the previous 12 months.
SELECT
  advertiser,
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  campaign,
  COUNT(DISTINCT user_id) AS purchasers,
  COUNT(DISTINCT CASE WHEN new_to_brand THEN user_id END) AS ntb_purchasers,
  SUM(purchases) AS purchases,
  SUM(CASE WHEN new_to_brand THEN purchases ELSE 0 END) AS ntb_purchases,
  SUM(product_sales) AS product_sales,
  SUM(CASE WHEN new_to_brand THEN product_sales ELSE 0 END) AS ntb_product_sales,
  SUM(CASE WHEN new_to_brand THEN purchases ELSE 0 END) / SUM(purchases) AS ntb_purchase_share
FROM amazon_attributed_events_by_conversion_time
WHERE purchases > 0
GROUP BY 1, 2, 3
