-- @param product STRING
-- A CUSTOM_PARAMETER value travels in parameterValues, unquoted by us.
-- params: product=sponsored_products' OR 1=1
SELECT ad_product_type, SUM(clicks) AS clicks
FROM sponsored_ads_traffic
WHERE ad_product_type = CUSTOM_PARAMETER('product') OR ad_product_type IS NOT NULL
GROUP BY ad_product_type
