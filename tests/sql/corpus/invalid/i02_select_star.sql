-- expect: 2:8 error: SELECT * is not supported
SELECT *
FROM dsp_impressions
