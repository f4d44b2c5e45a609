-- title: Promoted and brand-halo conversions by campaign
-- question: For each campaign, how many conversions and sales were of the products it promoted, and how many of other products of the same brand?
-- tables: conversions_with_relevance
-- description: conversions_with_relevance lists every conversion with each campaign it is
--   relevant to (engagement_scope PROMOTED or BRAND_HALO, halo_code saying how), whether or not
--   the user saw the campaign: join it to traffic for custom attribution.
SELECT
  campaign,
  engagement_scope,
  halo_code,
  event_category,
  COUNT(DISTINCT user_id) AS users,
  SUM(conversions) AS conversions,
  SUM(total_units_sold) AS units,
  SUM(total_product_sales) AS sales
FROM conversions_with_relevance
GROUP BY 1, 2, 3, 4
