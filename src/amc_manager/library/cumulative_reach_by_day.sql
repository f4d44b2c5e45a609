-- title: Cumulative DSP reach by day
-- question: How fast does DSP reach build up: how many users are reached for the first time each day, and how many unique users have been reached so far?
-- tables: dsp_impressions
-- description: Each user counts once, on the UTC day of their first impression in the window;
--   cumulative_reach is the running total of those first-time users. Add a campaign filter in
--   the first CTE to follow one campaign.
WITH first_seen AS (
  SELECT
    user_id,
    MIN(impression_date_utc) AS first_day,
    SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY user_id
),
daily AS (
  SELECT
    first_day,
    COUNT(DISTINCT user_id) AS new_users,
    SUM(impressions) AS impressions_of_new_users
  FROM first_seen
  GROUP BY 1
)
SELECT
  first_day AS day,
  SUM(new_users) AS new_users,
  SUM(SUM(new_users)) OVER (
    ORDER BY first_day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS cumulative_reach,
  SUM(impressions_of_new_users) AS impressions_of_new_users
FROM daily
GROUP BY 1
