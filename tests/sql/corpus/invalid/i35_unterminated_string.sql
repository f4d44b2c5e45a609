-- expect: 4:20 error: a string literal is never closed
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE advertiser = 'Acme
GROUP BY campaign
