-- expect: 5:1 error: ORDER BY is not supported outside window specifications
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
ORDER BY impressions DESC
