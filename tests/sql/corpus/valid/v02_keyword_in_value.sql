-- A value full of SQL keywords is quoted, never judged (lessons.md 9).
-- values: {"advertiser": "Q3 Update Sale; DROP TABLE x; SELECT * --"}
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE advertiser = {{advertiser}}
GROUP BY campaign
