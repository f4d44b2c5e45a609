-- expect: 3:1 error: a /* comment is never closed
SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign
/* a note that never ends
