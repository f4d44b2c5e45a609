-- expect: Column 'dma_code' has aggregation threshold HIGH and cannot be compared with literal values
-- dma_code is HIGH: an IN list of literal values is a literal filter too.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE dma_code IN ('501', '803')
GROUP BY campaign
