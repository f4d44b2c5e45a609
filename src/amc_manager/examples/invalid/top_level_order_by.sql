-- expect: ORDER BY is only supported inside window specifications
-- ORDER BY is only allowed inside window specifications, not on the result.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
ORDER BY impressions DESC
