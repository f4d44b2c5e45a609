-- expect: 4:20 error: no value for {{advertiser}}
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE advertiser = {{advertiser}}
GROUP BY campaign
