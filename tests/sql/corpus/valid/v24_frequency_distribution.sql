-- Users per frequency: user_id is grouped inside, never output.
WITH per_user AS (
  SELECT user_id, SUM(impressions) AS frequency
  FROM dsp_impressions
  GROUP BY user_id
)
SELECT frequency, COUNT(user_id) AS users
FROM per_user
GROUP BY frequency
