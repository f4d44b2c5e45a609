SELECT
  campaign,
  SUM(spend) / NULLIF(SUM(clicks), 0) AS cost_per_click,
  SUM(viewable_impressions) AS viewable
FROM sponsored_ads_traffic
GROUP BY campaign
