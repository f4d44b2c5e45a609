-- BUILT_IN_PARAMETER gives the window's bounds.
SELECT
  BUILT_IN_PARAMETER('TIME_WINDOW_START') AS window_start,
  BUILT_IN_PARAMETER('TIME_WINDOW_END') AS window_end,
  SUM(impressions) AS impressions
FROM dsp_impressions
