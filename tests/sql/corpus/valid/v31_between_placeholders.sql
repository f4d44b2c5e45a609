-- Placeholders as BETWEEN bounds on a MEDIUM column.
-- values: {"low": 0, "high": 1000000}
SELECT campaign, AVG(bid_price) AS avg_bid
FROM dsp_impressions
WHERE bid_price BETWEEN {{low}} AND {{high}}
GROUP BY campaign
