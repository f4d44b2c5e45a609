-- values: {"campaigns": []}
-- expect: 5:19 error: the value of {{campaigns}} (--param-json) is an empty list
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN {{campaigns}}
GROUP BY campaign
