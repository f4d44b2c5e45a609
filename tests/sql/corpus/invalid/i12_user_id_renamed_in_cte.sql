-- expect: 7:8 error: column 'user_id' has aggregation threshold VERY_HIGH and cannot be in the output (as output column 'shopper')
WITH shoppers AS (
  SELECT user_id AS shopper, SUM(clicks) AS clicks
  FROM sponsored_ads_traffic
  GROUP BY user_id
)
SELECT shopper, SUM(clicks) AS clicks
FROM shoppers
GROUP BY shopper
