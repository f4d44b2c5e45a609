-- title: Custom last-touch attribution with relevance
-- question: Which DSP campaign gets the credit for each relevant purchase when the last impression of a relevant campaign within a chosen lookback wins?
-- tables: dsp_impressions, conversions_with_relevance
-- description: A purchase relevant to a campaign (promoted or brand halo) is credited to the
--   relevant DSP campaign whose impression came last within lookback_days before it. Changing
--   lookback_days shows how sensitive the credit is to the attribution window.
-- @param lookback_days LONG 14
WITH purchases AS (
  SELECT conversion_id, user_id, campaign_id, event_dt_utc, total_product_sales
  FROM conversions_with_relevance
  WHERE event_category = 'purchase'
),
touches AS (
  SELECT
    p.conversion_id,
    p.user_id,
    i.campaign,
    p.total_product_sales,
    ROW_NUMBER() OVER (
      PARTITION BY p.conversion_id ORDER BY i.impression_dt_utc DESC, i.campaign
    ) AS recency_rank
  FROM purchases p
  JOIN dsp_impressions i
    ON p.user_id = i.user_id
    AND p.campaign_id = i.campaign_id
    AND i.impression_dt_utc <= p.event_dt_utc
    AND SECONDS_BETWEEN(i.impression_dt_utc, p.event_dt_utc)
      <= CUSTOM_PARAMETER('lookback_days') * 86400
)
SELECT
  campaign,
  COUNT(DISTINCT user_id) AS purchasers,
  COUNT(DISTINCT conversion_id) AS credited_purchases,
  SUM(total_product_sales) AS credited_sales
FROM touches
WHERE recency_rank = 1
GROUP BY 1
