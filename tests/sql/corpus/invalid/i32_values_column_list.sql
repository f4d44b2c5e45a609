-- expect: 3:10 error: the column list names 2 columns but the VALUES rows have 3 values
WITH goals (campaign, goal) AS (
  VALUES ('campaign_0', 10, 1), ('campaign_1', 20, 2)
)
SELECT g.campaign, SUM(g.goal) AS goal FROM goals g GROUP BY g.campaign
