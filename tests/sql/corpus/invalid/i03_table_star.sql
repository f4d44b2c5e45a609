-- expect: 4:13 error: SELECT * is not supported
WITH t AS (SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign)
SELECT
  COUNT(1), t.*
FROM t
GROUP BY t.campaign, t.impressions
