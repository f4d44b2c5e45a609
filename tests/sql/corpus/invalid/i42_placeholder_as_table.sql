-- values: {"table": "dsp_impressions"}
-- expect: 4:6 error: {{table}} cannot stand here
SELECT campaign, SUM(impressions) AS impressions
FROM {{table}}
GROUP BY campaign
