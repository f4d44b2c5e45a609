-- title: DSP viewability by ad slot size and environment
-- question: Which ad slot sizes and environments (web, app) give the most viewable DSP impressions?
-- tables: dsp_views
-- description: The same rates as viewability by campaign, cut by where the ad ran. Use it to
--   choose creative sizes and inventory for awareness campaigns bought on viewable CPM.
SELECT
  environment_type,
  ad_slot_size,
  COUNT(DISTINCT user_id) AS users,
  SUM(measurable_impressions) AS measurable_impressions,
  SUM(viewable_impressions) AS viewable_impressions,
  SUM(viewable_impressions) / SUM(measurable_impressions) AS viewability_rate
FROM dsp_views
GROUP BY 1, 2
