-- Two channels stacked with UNION ALL, each branch aggregated.
SELECT 'dsp' AS channel, campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
UNION ALL
SELECT 'sponsored' AS channel, campaign, SUM(impressions) AS impressions
FROM sponsored_ads_traffic
GROUP BY campaign
