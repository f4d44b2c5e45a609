SELECT device_type, operating_system, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY 1, 2
