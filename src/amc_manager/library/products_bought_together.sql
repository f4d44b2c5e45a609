-- title: Products bought together (cross-sell)
-- question: Which pairs of products are bought by the same customers, and what share of one product's buyers also bought the other?
-- tables: conversions
-- description: Pairs are ordered: also_bought_share is the share of asin's buyers who also
--   bought also_bought_asin in the window, whichever came first. High shares point to bundles
--   and to audiences for cross-selling. Pairs with fewer than min_shared_buyers shared buyers
--   are left out.
-- @param min_shared_buyers LONG 5
WITH buyers AS (
  SELECT tracked_asin, user_id, SUM(conversions) AS purchases
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1, 2
),
asin_buyers AS (
  SELECT tracked_asin, COUNT(DISTINCT user_id) AS buyers
  FROM buyers
  GROUP BY 1
)
SELECT
  a.tracked_asin AS asin,
  b.tracked_asin AS also_bought_asin,
  COUNT(DISTINCT a.user_id) AS shared_buyers,
  MAX(t.buyers) AS asin_buyers,
  COUNT(DISTINCT a.user_id) / MAX(t.buyers) AS also_bought_share
FROM buyers a
JOIN buyers b ON a.user_id = b.user_id AND a.tracked_asin <> b.tracked_asin
JOIN asin_buyers t ON a.tracked_asin = t.tracked_asin
GROUP BY 1, 2
HAVING COUNT(DISTINCT a.user_id) >= CUSTOM_PARAMETER('min_shared_buyers')
