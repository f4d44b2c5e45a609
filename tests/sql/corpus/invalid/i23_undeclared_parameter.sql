-- expect: 4:25 error: CUSTOM_PARAMETER('ad_product_type') is not declared
SELECT ad_product_type, SUM(clicks) AS clicks
FROM sponsored_ads_traffic
WHERE ad_product_type = CUSTOM_PARAMETER('ad_product_type')
GROUP BY ad_product_type
