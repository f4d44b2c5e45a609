-- expect: 6:7 error: column 'city_name' has aggregation threshold HIGH and cannot be compared with literal values
WITH local AS (
  SELECT UPPER(city_name) AS city, user_id FROM dsp_impressions
)
SELECT COUNT(DISTINCT user_id) AS reach FROM local
WHERE city LIKE 'SEA%'
