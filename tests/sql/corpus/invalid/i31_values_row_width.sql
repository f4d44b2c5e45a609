-- expect: 3:30 error: VALUES row 2 has 1 value, the first row has 2
WITH goals (campaign, goal) AS (
  VALUES ('campaign_0', 10), ('campaign_1')
)
SELECT g.campaign, SUM(g.goal) AS goal FROM goals g GROUP BY g.campaign
