-- MEDIUM timestamps may be output (aggregated per campaign).
SELECT campaign, MIN(impression_dt) AS first_seen, MAX(impression_dt) AS last_seen
FROM dsp_impressions
GROUP BY campaign
