SELECT DATE_TRUNC('DAY', impression_dt) AS day, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY DATE_TRUNC('DAY', impression_dt)
