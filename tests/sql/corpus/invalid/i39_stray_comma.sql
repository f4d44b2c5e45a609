-- expect: 2:49 error: a comma before FROM
SELECT campaign, SUM(impressions) AS impressions,
FROM dsp_impressions
GROUP BY campaign
