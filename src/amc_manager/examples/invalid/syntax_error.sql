-- expect: Encountered "("
-- A missing comma between two select items.
SELECT campaign SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
