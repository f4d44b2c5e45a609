-- expect: 2:8 error: column 'campaign' is ambiguous
SELECT campaign, SUM(i.impressions) AS impressions
FROM dsp_impressions i
JOIN dsp_clicks c ON i.campaign_id = c.campaign_id
GROUP BY i.campaign
