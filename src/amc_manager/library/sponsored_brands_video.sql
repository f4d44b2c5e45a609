-- title: Sponsored brands video engagement
-- question: How many sponsored ads video impressions were viewable, watched for five seconds, and played to each quartile and to the end, per campaign?
-- tables: sponsored_ads_traffic
-- description: Sponsored brands video and sponsored display video report their player events
--   in sponsored_ads_traffic. Rates divide by impressions; five_sec_views is the share that
--   played at least five seconds.
SELECT
  ad_product_type,
  campaign,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(viewable_impressions) AS viewable_impressions,
  SUM(five_sec_views) AS five_sec_views,
  SUM(video_first_quartile_views) AS first_quartile_views,
  SUM(video_midpoint_views) AS midpoint_views,
  SUM(video_third_quartile_views) AS third_quartile_views,
  SUM(video_complete_views) AS complete_views,
  SUM(video_complete_views) / SUM(impressions) AS completion_rate,
  SUM(video_unmutes) AS unmutes
FROM sponsored_ads_traffic
WHERE video_first_quartile_views > 0 OR five_sec_views > 0
GROUP BY 1, 2
