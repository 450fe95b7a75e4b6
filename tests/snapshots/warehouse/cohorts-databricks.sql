WITH `t2` AS (
  SELECT DISTINCT
    *
  FROM (
    SELECT
      `t0`.`customer_id` AS `_cid`,
      (
        (
          CAST(EXTRACT(year FROM `t0`.`ordered_at`) AS BIGINT) * 12
        ) + CAST(EXTRACT(month FROM `t0`.`ordered_at`) AS BIGINT)
      ) - 1 AS `_p`
    FROM `orders` AS `t0`
  ) AS `t1`
  WHERE
    `t1`.`_p` IS NOT NULL
)
SELECT
  `t8`.`_c`,
  `t8`.`period`,
  COUNT(*) AS `active`
FROM (
  SELECT
    `t7`.`_c`,
    `t4`.`_p` - `t7`.`_c` AS `period`
  FROM `t2` AS `t4`
  INNER JOIN (
    SELECT
      `t5`.`_cid` AS `_fcid`,
      `t5`.`_c`
    FROM (
      SELECT
        `t3`.`_cid`,
        MIN(`t3`.`_p`) AS `_c`
      FROM `t2` AS `t3`
      GROUP BY
        1
    ) AS `t5`
  ) AS `t7`
    ON `t4`.`_cid` = `t7`.`_fcid`
) AS `t8`
GROUP BY
  1,
  2
