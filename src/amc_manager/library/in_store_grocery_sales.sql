-- title: In-store grocery sales of reached households
-- question: How much did households reached by each DSP campaign spend in stores on each brand and category, week by week?
-- tables: ncs_cpg_insights_stream, dsp_impressions
-- description: Needs the NCS CPG Insights Stream paid feature. Purchases are NC Solutions'
--   modelled in-store grocery purchases in weeks ending on Saturdays, not ad-attributed.
WITH reached AS (
  SELECT campaign, user_id, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY 1, 2
)
SELECT
  r.campaign,
  n.week_end_dt AS week_ending,
  n.brand,
  n.category,
  COUNT(DISTINCT n.user_id) AS buying_users,
  SUM(n.purchase_dollar_amount) AS spend_usd
FROM reached r
JOIN ncs_cpg_insights_stream n ON r.user_id = n.user_id
GROUP BY 1, 2, 3, 4
