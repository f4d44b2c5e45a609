-- title: Weekly DSP trend
-- question: How do DSP impressions, reach, spend and attributed purchases move week by week?
-- tables: amazon_attributed_events_by_conversion_time, dsp_impressions
-- description: Weeks start on Monday, UTC.
WITH delivery AS (
  SELECT
    CAST(DATE_TRUNC('WEEK', impression_dt) AS DATE) AS week_start,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    SUM(total_cost) / 100000.0 AS spend_usd
  FROM dsp_impressions
  GROUP BY 1
),
outcomes AS (
  SELECT
    CAST(DATE_TRUNC('WEEK', conversion_event_dt_utc) AS DATE) AS week_start,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS product_sales
  FROM amazon_attributed_events_by_conversion_time
  WHERE ad_product_type IS NULL
  GROUP BY 1
)
SELECT
  d.week_start,
  SUM(d.impressions) AS impressions,
  SUM(d.reach) AS reach,
  SUM(d.spend_usd) AS spend_usd,
  SUM(o.purchases) AS dsp_attributed_purchases,
  SUM(o.product_sales) AS dsp_attributed_sales
FROM delivery d
LEFT JOIN outcomes o ON d.week_start = o.week_start
GROUP BY 1
