-- title: Delivery by targeted audience segment
-- question: For each DSP line item, which of its targeted audience segments did its impressions reach, and at what cost?
-- tables: dsp_impressions_by_matched_segments
-- description: One impression counts once per targeted segment the user belongs to, so a line
--   item targeting overlapping segments shows some impressions under several of them.
SELECT
  campaign,
  line_item,
  behavior_segment_name AS segment,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000.0 AS spend_usd,
  SUM(total_cost) / 100.0 / SUM(impressions) AS cpm_usd
FROM dsp_impressions_by_matched_segments
GROUP BY 1, 2, 3
