-- expect: 2:20 error: syntax error at '('
SELECT campaign SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
