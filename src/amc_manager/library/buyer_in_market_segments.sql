-- title: In-market segments of purchasers
-- question: Which Amazon in-market audience segments are over-represented among a brand's purchasers compared with everyone DSP reached?
-- tables: audience_segments_amer_inmarket, segment_metadata, dsp_impressions, conversions
-- description: Needs the Amazon Insights paid feature. Segment membership is today's snapshot
--   (whatever the window). over_index compares the segment's share among purchasers with its
--   share among reached users: above 1 means purchasers over-index on it, an audience to target.
WITH members AS (
  SELECT m.segment_id, s.segment_name, s.category_level_1, m.user_id
  FROM audience_segments_amer_inmarket m
  JOIN segment_metadata s
    ON m.segment_id = s.segment_id AND m.segment_marketplace_id = s.segment_marketplace_id
),
reached AS (
  SELECT user_id, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY 1
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1
),
totals AS (
  SELECT
    COUNT(DISTINCT r.user_id) AS reached_users,
    COUNT(DISTINCT b.user_id) AS reached_buyers
  FROM reached r
  LEFT JOIN buyers b ON r.user_id = b.user_id
),
by_segment AS (
  SELECT
    m.category_level_1,
    m.segment_name,
    COUNT(DISTINCT r.user_id) AS reached_members,
    COUNT(DISTINCT b.user_id) AS buying_members
  FROM members m
  JOIN reached r ON m.user_id = r.user_id
  LEFT JOIN buyers b ON m.user_id = b.user_id
  GROUP BY 1, 2
)
SELECT
  s.category_level_1,
  s.segment_name,
  SUM(s.reached_members) AS reached_members,
  SUM(s.buying_members) AS buying_members,
  (SUM(s.buying_members) / MAX(t.reached_buyers))
    / (SUM(s.reached_members) / MAX(t.reached_users)) AS over_index
FROM by_segment s
CROSS JOIN totals t
GROUP BY 1, 2
