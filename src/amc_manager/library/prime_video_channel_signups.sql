-- title: Prime Video Channel sign-ups after ad exposure
-- question: How many new Prime Video Channel subscriptions started among users reached by DSP, and how many of them on a promotional offer?
-- tables: amazon_pvc_enrollments, dsp_impressions
-- description: Needs the Amazon Prime Video Channel Insights paid feature. A sign-up counts
--   when its enrollment record opens a plan (pv_is_plan_start) and starts in the window; the
--   user counts as reached when a DSP impression of the campaign came first.
WITH reached AS (
  SELECT campaign, user_id, MIN(impression_dt_utc) AS first_impression
  FROM dsp_impressions
  GROUP BY 1, 2
),
signups AS (
  SELECT pv_subscription_name, user_id, pv_start_date, pv_is_promo
  FROM amazon_pvc_enrollments
  WHERE pv_is_plan_start
)
SELECT
  r.campaign,
  s.pv_subscription_name AS subscription,
  COUNT(DISTINCT r.user_id) AS reached_users,
  COUNT(DISTINCT s.user_id) AS subscribers,
  COUNT(DISTINCT CASE WHEN s.pv_is_promo THEN s.user_id END) AS promo_subscribers,
  COUNT(DISTINCT s.user_id) / COUNT(DISTINCT r.user_id) AS signup_rate
FROM reached r
JOIN signups s
  ON r.user_id = s.user_id AND s.pv_start_date >= CAST(r.first_impression AS DATE)
GROUP BY 1, 2
