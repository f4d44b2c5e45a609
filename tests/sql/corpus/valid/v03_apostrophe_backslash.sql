-- --param text with an apostrophe and a backslash: standard SQL quoting.
-- params: campaign=O'Brien \ Sons 'Summer' \'
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
WHERE campaign = {{campaign}} OR campaign <> {{campaign}}
GROUP BY campaign
