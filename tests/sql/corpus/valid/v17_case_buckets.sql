-- Bucketing with CASE; literal comparisons on LOW and NONE columns are fine.
SELECT
  CASE WHEN device_type = 'device_type_0' THEN 'first' ELSE 'other' END AS device_group,
  SUM(CASE WHEN impressions > 1 THEN impressions ELSE 0 END) AS repeat_impressions
FROM dsp_impressions
GROUP BY 1
