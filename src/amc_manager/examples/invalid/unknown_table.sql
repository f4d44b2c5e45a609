-- expect: Object 'dsp_impression_logs' not found
-- A table that AMC does not have.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impression_logs
GROUP BY campaign
