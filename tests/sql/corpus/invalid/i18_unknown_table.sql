-- expect: 3:6 error: unknown table 'dsp_impression_logs'
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impression_logs
GROUP BY campaign
