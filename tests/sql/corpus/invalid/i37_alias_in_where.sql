-- expect: 4:7 error: 'spend' is an alias of the SELECT list and cannot be used here
SELECT campaign, SUM(total_cost) AS spend
FROM dsp_impressions
WHERE spend > 0
GROUP BY campaign
