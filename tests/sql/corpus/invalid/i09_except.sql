-- expect: 3:1 error: EXCEPT is not supported
SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY campaign
EXCEPT
SELECT campaign, SUM(clicks) AS n FROM dsp_clicks GROUP BY campaign
