-- expect: 3:1 error: the queries joined by UNION return 2 and 3 columns
SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY campaign
UNION ALL
SELECT campaign, device_type, SUM(clicks) AS n FROM dsp_clicks GROUP BY campaign, device_type
