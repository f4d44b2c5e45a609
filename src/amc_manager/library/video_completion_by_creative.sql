-- title: Video completion by campaign and creative
-- question: How far do viewers watch each DSP video creative: what share of starts reach the first quartile, the midpoint, the third quartile and the end?
-- tables: dsp_video_events_feed
-- description: Rates divide each quartile's events by video starts; the video completion rate
--   (VCR) is video_complete / video_start. Mutes and skips show how the ad was received.
SELECT
  campaign,
  creative,
  creative_duration,
  COUNT(DISTINCT user_id) AS viewers,
  SUM(video_start) AS starts,
  SUM(video_first_quartile) / SUM(video_start) AS first_quartile_rate,
  SUM(video_midpoint) / SUM(video_start) AS midpoint_rate,
  SUM(video_third_quartile) / SUM(video_start) AS third_quartile_rate,
  SUM(video_complete) / SUM(video_start) AS completion_rate,
  SUM(video_mute) / SUM(video_start) AS mute_rate,
  SUM(video_skip_forward) / SUM(video_start) AS skip_rate,
  SUM(video_click) AS clicks
FROM dsp_video_events_feed
WHERE video_start > 0
GROUP BY 1, 2, 3
