-- title: Prime Video Channel viewing by genre
-- question: Which genres do Prime Video Channel subscribers stream, in how many sessions and for how many hours?
-- tables: amazon_pvc_streaming_events_feed
-- description: Needs the Amazon Prime Video Channel Insights paid feature. Hours add up every
--   streaming session in the window. Seconds viewed is a MEDIUM column, so each genre needs at
--   least 100 viewers to be shown; group by pv_gti_series_or_movie_name for titles when the
--   audience is large enough.
SELECT
  pv_gti_genre AS genre,
  COUNT(DISTINCT user_id) AS viewers,
  COUNT(DISTINCT pv_session_id) AS sessions,
  SUM(pv_seconds_viewed) / 3600.0 AS hours_viewed
FROM amazon_pvc_streaming_events_feed
GROUP BY 1
