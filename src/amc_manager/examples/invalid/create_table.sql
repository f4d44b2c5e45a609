-- expect: CREATE statements are not supported
-- AMC runs queries only: tables cannot be created.
CREATE TABLE campaign_totals AS
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
