-- title: Video completion and purchase rate
-- question: Do users who finish more of the DSP video ads they start buy more often than users who seldom finish them?
-- tables: dsp_video_events_feed, conversions
-- description: Each viewer is placed by the share of the videos they started in the window
--   that they watched to the end. Purchases of the advertisers' products come from the
--   conversions table, ad-attributed or not; exposure is not random, so read a difference as
--   a signal, not as measured lift.
WITH viewers AS (
  SELECT
    user_id,
    SUM(video_start) AS starts,
    SUM(video_complete) AS completes
  FROM dsp_video_events_feed
  GROUP BY 1
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases, SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1
)
SELECT
  CASE
    WHEN v.starts = 0 THEN '0: never started'
    WHEN v.completes = 0 THEN '1: never finished'
    WHEN v.completes < v.starts * 0.5 THEN '2: finished under half'
    WHEN v.completes < v.starts THEN '3: finished half or more'
    ELSE '4: finished every one'
  END AS completion,
  COUNT(DISTINCT v.user_id) AS viewers,
  SUM(v.starts) AS starts,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT v.user_id) AS purchase_rate,
  SUM(b.purchases) AS purchases,
  SUM(b.sales) AS sales
FROM viewers v
LEFT JOIN buyers b ON v.user_id = b.user_id
GROUP BY 1
