-- values: {"advertiser": "Acme"}
-- expect: 5:21 error: placeholder {{advertiser}} is inside a string literal
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE advertiser = '{{advertiser}}' OR advertiser = {{advertiser}}
GROUP BY campaign
