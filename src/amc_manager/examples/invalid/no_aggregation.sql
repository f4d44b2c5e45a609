-- expect: must aggregate at least one column
-- Event-level rows cannot be exported: the result must aggregate.
SELECT campaign, impression_dt, total_cost
FROM dsp_impressions
