-- title: Prime Video Channel viewing by genre
-- question: Which genres do Prime Video Channel subscribers stream, in how many sessions and for how many hours?
-- tables: amazon_pvc_streaming_events_feed
-- description: Needs the Amazon Prime Video Channel Insights paid feature. A title carries a
--   list of genres, exploded here so that a session counts under each of its genres (the rows
--   overlap). Seconds viewed is a MEDIUM column: a genre needs many viewers to be shown.
WITH sessions AS (
  SELECT
    EXPLODE(pv_gti_genre) AS genre,
    user_id,
    pv_session_id,
    pv_seconds_viewed
  FROM amazon_pvc_streaming_events_feed
)
SELECT
  genre,
  COUNT(DISTINCT user_id) AS viewers,
  COUNT(DISTINCT pv_session_id) AS sessions,
  SUM(pv_seconds_viewed) / 3600.0 AS hours_viewed,
  SUM(pv_seconds_viewed) / 3600.0 / COUNT(DISTINCT user_id) AS hours_per_viewer
FROM sessions
GROUP BY 1
