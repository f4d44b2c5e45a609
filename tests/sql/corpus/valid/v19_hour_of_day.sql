SELECT EXTRACT(HOUR FROM impression_dt) AS hour_of_day, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY EXTRACT(HOUR FROM impression_dt)
