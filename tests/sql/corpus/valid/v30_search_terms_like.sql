-- LIKE with a literal on a LOW column.
SELECT customer_search_term, SUM(clicks) AS clicks
FROM sponsored_ads_traffic
WHERE customer_search_term LIKE 'customer%'
GROUP BY customer_search_term
