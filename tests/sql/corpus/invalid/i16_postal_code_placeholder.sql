-- A placeholder is a literal too, whatever the list's size.
-- values: {"zips": ["98101", "10001"]}
-- expect: 6:7 error: column 'postal_code' has aggregation threshold HIGH and cannot be compared with literal values
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE postal_code IN {{zips}}
GROUP BY campaign
