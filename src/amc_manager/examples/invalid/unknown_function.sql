-- expect: No match found for function signature DATEDIFF_SECONDS
-- DATEDIFF is not an AMC function: use SECONDS_BETWEEN.
SELECT campaign, AVG(DATEDIFF_SECONDS(impression_dt, click_dt)) AS avg_seconds_to_click
FROM dsp_clicks
GROUP BY campaign
