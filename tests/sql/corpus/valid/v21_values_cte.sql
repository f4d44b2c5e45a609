-- A VALUES CTE with a column list, joined to the data.
WITH goals (campaign, goal) AS (
  VALUES ('campaign_0', 10), ('campaign_1', 20)
)
SELECT g.campaign, g.goal, SUM(i.impressions) AS impressions
FROM goals g
JOIN dsp_impressions i ON i.campaign = g.campaign
GROUP BY g.campaign, g.goal
