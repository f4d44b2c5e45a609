-- expect: 3:1 error: only one statement can run, found 2
SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign;
SELECT campaign, SUM(clicks) AS clicks FROM dsp_clicks GROUP BY campaign;
