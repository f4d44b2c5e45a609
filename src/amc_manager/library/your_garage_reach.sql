-- title: DSP reach by the vehicles shoppers own
-- question: Which vehicle makes and types have the users each DSP campaign reached saved in Your Garage?
-- tables: amazon_your_garage, dsp_impressions
-- description: Needs the Amazon Your Garage paid feature. Your Garage is a snapshot of the
--   vehicles shoppers saved (whatever the window); a user with two vehicles counts under both.
WITH reached AS (
  SELECT campaign, user_id, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY 1, 2
)
SELECT
  r.campaign,
  g.garage_make,
  g.vehicle_type,
  COUNT(DISTINCT r.user_id) AS reached_users,
  SUM(r.impressions) AS impressions
FROM reached r
JOIN amazon_your_garage g ON r.user_id = g.user_id
GROUP BY 1, 2, 3
