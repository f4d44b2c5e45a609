-- expect: 3:3 error: column 'postal_code' has aggregation threshold HIGH and cannot be compared with literal values
SELECT
  CASE postal_code WHEN '98101' THEN 'seattle' ELSE 'other' END AS area,
  SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY 1
