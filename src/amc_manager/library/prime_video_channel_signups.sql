-- title: Prime Video Channel sign-ups after ad exposure
-- question: What share of the users each DSP campaign reached started a Prime Video Channel subscription afterwards, and how many of them on a promotional offer?
-- tables: amazon_pvc_enrollments, dsp_impressions
-- description: Needs the Amazon Prime Video Channel Insights paid feature. A sign-up is an
--   enrollment record that opens a plan (pv_is_plan_start) and starts on or after the day of
--   the user's first impression of the campaign in the window.
WITH reached AS (
  SELECT campaign, user_id, MIN(impression_dt_utc) AS first_impression
  FROM dsp_impressions
  GROUP BY 1, 2
),
signups AS (
  SELECT user_id, pv_start_date, pv_is_promo
  FROM amazon_pvc_enrollments
  WHERE pv_is_plan_start
)
SELECT
  r.campaign,
  COUNT(DISTINCT r.user_id) AS reached_users,
  COUNT(DISTINCT s.user_id) AS subscribers,
  COUNT(DISTINCT CASE WHEN s.pv_is_promo THEN s.user_id END) AS promo_subscribers,
  COUNT(DISTINCT s.user_id) / COUNT(DISTINCT r.user_id) AS signup_rate
FROM reached r
LEFT JOIN signups s
  ON r.user_id = s.user_id AND s.pv_start_date >= CAST(r.first_impression AS DATE)
GROUP BY 1
