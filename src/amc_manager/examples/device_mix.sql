-- title: Device mix
-- question: How are impressions, clicks and reach split across device types, for DSP and for sponsored ads?
-- tables: dsp_clicks, dsp_impressions, sponsored_ads_traffic
WITH dsp_devices AS (
  SELECT 'dsp' AS channel, device_type, user_id, impressions, 0 AS clicks
  FROM dsp_impressions
),
dsp_click_devices AS (
  SELECT 'dsp' AS channel, device_type, user_id, 0 AS impressions, clicks
  FROM dsp_clicks
),
sponsored_devices AS (
  SELECT 'sponsored ads' AS channel, device_type, user_id, impressions, clicks
  FROM sponsored_ads_traffic
),
events AS (
  SELECT channel, device_type, user_id, impressions, clicks FROM dsp_devices
  UNION ALL
  SELECT channel, device_type, user_id, impressions, clicks FROM dsp_click_devices
  UNION ALL
  SELECT channel, device_type, user_id, impressions, clicks FROM sponsored_devices
)
SELECT
  channel,
  device_type,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(clicks) / SUM(impressions) AS click_through_rate
FROM events
GROUP BY 1, 2
