-- title: DSP viewability by campaign and line item
-- question: What share of each DSP line item's measurable impressions were viewable, and how many impressions could not be measured?
-- tables: dsp_views
-- description: viewability_rate divides viewable impressions (the IAB standard: half the ad's
--   pixels on screen for a second, two for video) by measurable impressions. dsp_views keeps
--   one row per view event, so an impression both measurable and viewable has two rows; the
--   0/1 metric columns count each impression once per kind.
SELECT
  campaign,
  line_item,
  COUNT(DISTINCT user_id) AS users,
  SUM(measurable_impressions) AS measurable_impressions,
  SUM(viewable_impressions) AS viewable_impressions,
  SUM(unmeasurable_viewable_impressions) AS unmeasurable_viewable_impressions,
  SUM(viewable_impressions) / SUM(measurable_impressions) AS viewability_rate
FROM dsp_views
GROUP BY 1, 2
