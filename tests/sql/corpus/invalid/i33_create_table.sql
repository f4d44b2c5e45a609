-- expect: 2:1 error: CREATE statements are not supported
CREATE TABLE campaign_totals AS
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
