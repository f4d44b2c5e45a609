-- A short list becomes a parenthesised IN list.
-- values: {"campaigns": ["campaign_0", "campaign_1", "it's"]}
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN {{campaigns}}
GROUP BY campaign
