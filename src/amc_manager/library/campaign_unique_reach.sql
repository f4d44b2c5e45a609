-- title: Unique and shared reach per DSP campaign
-- question: For each DSP campaign, how many of its users did no other campaign reach, and how many did it share with other campaigns?
-- tables: dsp_impressions
-- description: A campaign with a low unique share mostly re-reaches users other campaigns
--   already reach; a high share means it extends the advertiser's reach.
WITH user_campaigns AS (
  SELECT user_id, campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY 1, 2
),
campaign_counts AS (
  SELECT user_id, COUNT(DISTINCT campaign) AS campaigns
  FROM user_campaigns
  GROUP BY 1
)
SELECT
  u.campaign,
  COUNT(DISTINCT u.user_id) AS reach,
  COUNT(DISTINCT CASE WHEN c.campaigns = 1 THEN u.user_id END) AS unique_reach,
  COUNT(DISTINCT CASE WHEN c.campaigns > 1 THEN u.user_id END) AS shared_reach,
  COUNT(DISTINCT CASE WHEN c.campaigns = 1 THEN u.user_id END) / COUNT(DISTINCT u.user_id)
    AS unique_share,
  SUM(u.impressions) AS impressions
FROM user_campaigns u
JOIN campaign_counts c ON u.user_id = c.user_id
GROUP BY 1
