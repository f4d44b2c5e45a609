-- title: Vehicle purchases of ad-exposed users
-- question: Which makes and classes of vehicle did users reached by each DSP campaign buy after their first impression?
-- tables: experian_vehicle_purchases, dsp_impressions
-- description: Needs the Experian Vehicle Purchase Insights paid feature. Purchases come from
--   registration records, arrive about two months late and are not ad-attributed; run it over
--   a window that ended at least two months ago and extend it to cover the buying cycle.
WITH reached AS (
  SELECT campaign, user_id, MIN(impression_dt_utc) AS first_impression
  FROM dsp_impressions
  GROUP BY 1, 2
),
bought AS (
  SELECT user_id, vehicle_make, vehicle_class, new_or_used, purchase_date
  FROM experian_vehicle_purchases
)
SELECT
  r.campaign,
  b.vehicle_make,
  b.vehicle_class,
  b.new_or_used,
  COUNT(DISTINCT b.user_id) AS buyers
FROM reached r
JOIN bought b ON r.user_id = b.user_id AND b.purchase_date >= CAST(r.first_impression AS DATE)
GROUP BY 1, 2, 3, 4
