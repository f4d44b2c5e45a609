SELECT "campaign", `device_type`, SUM("impressions") AS "total impressions"
FROM dsp_impressions
GROUP BY "campaign", `device_type`
