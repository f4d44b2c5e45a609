-- expect: 2:8 error: 'x' is not a table or alias of this query
SELECT x.campaign, SUM(i.impressions) AS impressions
FROM dsp_impressions i
GROUP BY i.campaign
