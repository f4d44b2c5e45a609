-- expect: Column 'postal_code' has aggregation threshold HIGH and cannot be compared with literal values
-- Renaming postal_code in a CTE does not lift the literal-filter ban.
WITH local_reach AS (
  SELECT postal_code AS zip, user_id, impressions
  FROM dsp_impressions
)
SELECT COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM local_reach
WHERE zip LIKE '981%'
