-- HIGH columns may be grouped and output (AMC then needs 100 users per row).
SELECT postal_code, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY postal_code
