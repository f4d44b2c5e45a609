-- expect: 4:7 error: column 'dma_code' has aggregation threshold HIGH and cannot be compared with literal values
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE dma_code IN ('501', '803')
GROUP BY campaign
