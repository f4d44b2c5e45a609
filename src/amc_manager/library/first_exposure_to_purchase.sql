-- title: Time from first DSP exposure to first purchase
-- question: How long after their first DSP impression do reached users make their first purchase of the brand?
-- tables: dsp_impressions, conversions
-- description: Per advertiser, each reached user's first impression in the window is compared
--   with their first purchase of the advertiser's products after it (ad-attributed or not).
--   Unlike attribution's last touch, this measures the whole consideration time.
WITH first_exposure AS (
  SELECT advertiser, user_id, MIN(impression_dt_utc) AS first_impression
  FROM dsp_impressions
  GROUP BY 1, 2
),
first_purchase AS (
  SELECT e.advertiser, e.user_id, MIN(c.event_dt_utc) AS first_purchase
  FROM first_exposure e
  JOIN conversions c
    ON e.advertiser = c.advertiser AND e.user_id = c.user_id
    AND c.event_category = 'purchase' AND c.event_dt_utc >= e.first_impression
  GROUP BY 1, 2
),
lags AS (
  SELECT
    e.advertiser,
    e.user_id,
    SECONDS_BETWEEN(e.first_impression, p.first_purchase) / 86400 AS days_to_purchase
  FROM first_exposure e
  JOIN first_purchase p ON e.advertiser = p.advertiser AND e.user_id = p.user_id
)
SELECT
  advertiser,
  CASE
    WHEN days_to_purchase < 1 THEN '1: same day'
    WHEN days_to_purchase < 3 THEN '2: 1 to 3 days'
    WHEN days_to_purchase < 7 THEN '3: 3 to 7 days'
    WHEN days_to_purchase < 14 THEN '4: 7 to 14 days'
    ELSE '5: 14 days or more'
  END AS time_to_first_purchase,
  COUNT(DISTINCT user_id) AS purchasers,
  AVG(days_to_purchase) AS avg_days
FROM lags
GROUP BY 1, 2
