-- Numbers and booleans stay bare.
-- values: {"min_conversions": 1, "ntb": true, "ratio": 0.5}
SELECT tracked_asin, SUM(conversions) AS conversions, SUM(conversions) * {{ratio}} AS weighted
FROM conversions
WHERE new_to_brand = {{ntb}}
GROUP BY tracked_asin
HAVING SUM(conversions) >= {{min_conversions}}
