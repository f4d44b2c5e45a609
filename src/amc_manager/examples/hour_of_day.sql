-- title: DSP delivery by hour of day
-- question: At which hours of the day (US Eastern time) are DSP impressions served and clicked?
-- tables: dsp_clicks, dsp_impressions
WITH impressions_by_hour AS (
  SELECT
    EXTRACT(HOUR FROM CONVERT_TIME_ZONE_FROM_UTC(impression_dt, 'America/New_York')) AS hour_et,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    SUM(total_cost) AS total_cost
  FROM dsp_impressions
  GROUP BY 1
),
clicks_by_hour AS (
  SELECT
    EXTRACT(HOUR FROM CONVERT_TIME_ZONE_FROM_UTC(click_dt, 'America/New_York')) AS hour_et,
    SUM(clicks) AS clicks
  FROM dsp_clicks
  GROUP BY 1
)
SELECT
  i.hour_et AS hour_of_day_et,
  SUM(i.impressions) AS impressions,
  SUM(i.reach) AS reach,
  SUM(c.clicks) AS clicks,
  SUM(c.clicks) / SUM(i.impressions) AS click_through_rate,
  SUM(i.total_cost) / 100000.0 AS spend_usd
FROM impressions_by_hour i
LEFT JOIN clicks_by_hour c ON i.hour_et = c.hour_et
GROUP BY 1
