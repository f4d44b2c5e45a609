-- expect: Column 'user_id' has aggregation threshold VERY_HIGH and cannot be selected in the output (output column 'shopper')
-- Renaming user_id in a CTE does not make it exportable.
WITH shoppers AS (
  SELECT user_id AS shopper, SUM(clicks) AS clicks
  FROM sponsored_ads_traffic
  GROUP BY user_id
)
SELECT shopper, SUM(clicks) AS clicks
FROM shoppers
GROUP BY shopper
