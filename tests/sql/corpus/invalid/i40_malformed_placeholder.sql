-- expect: 4:20 error: '{{ 1st advertiser }}' is not a valid placeholder
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE advertiser = {{ 1st advertiser }}
GROUP BY campaign
