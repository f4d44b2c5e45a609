-- title: DSP reach and purchases by audience segment
-- question: Which audience segments do the users DSP reaches belong to, and which of those segments purchase at the highest rate?
-- tables: dsp_impressions_by_user_segments, conversions
-- description: A user belongs to many segments, so segment rows overlap and do not add up to
--   the total reach. targeted_impressions are those whose line item targeted the segment.
--   Purchases of the advertisers' products come from the conversions table.
WITH reached AS (
  SELECT
    behavior_segment_name,
    user_id,
    SUM(impressions) AS impressions,
    SUM(behavior_segment_matched) AS targeted_impressions
  FROM dsp_impressions_by_user_segments
  GROUP BY 1, 2
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases, SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1
)
SELECT
  r.behavior_segment_name AS segment,
  COUNT(DISTINCT r.user_id) AS reach,
  SUM(r.impressions) AS impressions,
  SUM(r.targeted_impressions) AS targeted_impressions,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT r.user_id) AS purchase_rate,
  SUM(b.sales) AS sales
FROM reached r
LEFT JOIN buyers b ON r.user_id = b.user_id
GROUP BY 1
