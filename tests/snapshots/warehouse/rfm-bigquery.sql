WITH `t3` AS (
  SELECT
    `t2`.`customer_id`,
    `t2`.`_d`,
    SUM(`t2`.`amount`) AS `_v`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t0`.`customer_id`,
        DATE_DIFF(DATE(`t0`.`ordered_at`), DATE(1970, 1, 1), DAY) AS `_d`,
        `t0`.`amount`
      FROM `orders` AS `t0`
    ) AS `t1`
    WHERE
      `t1`.`_d` <= 20088
  ) AS `t2`
  GROUP BY
    1,
    2
)
SELECT
  SUBSTRING(
    TO_HEX(SHA256(CONCAT('s3cret', `t15`.`customer_id`))),
    IF(
      (
        0 + 1
      ) >= 1,
      0 + 1,
      0 + 1 + LENGTH(TO_HEX(SHA256(CONCAT('s3cret', `t15`.`customer_id`))))
    ),
    16
  ) AS `customer_id`,
  `t15`.`_n` - 1 AS `frequency`,
  ieee_divide(CAST(`t15`.`_last` - `t15`.`_first` AS FLOAT64), 7.0) AS `recency`,
  ieee_divide(CAST(19904 - `t15`.`_first` AS FLOAT64), 7.0) AS `T`,
  IF(
    (
      `t15`.`_n` - 1
    ) > 0,
    ieee_divide(`t15`.`_total` - `t15`.`_fv`, CAST(`t15`.`_n` - 1 AS FLOAT64)),
    0.0
  ) AS `monetary_value`,
  COALESCE(`t15`.`_fh`, 0) AS `frequency_holdout`,
  IF(
    COALESCE(`t15`.`_fh`, 0) > 0,
    ieee_divide(`t15`.`_ht`, CAST(COALESCE(`t15`.`_fh`, 0) AS FLOAT64)),
    0.0
  ) AS `monetary_value_holdout`,
  ieee_divide(CAST(184 AS FLOAT64), 7.0) AS `duration_holdout`
FROM (
  SELECT
    `t14`.*
    EXCEPT (`_hcid`)
  FROM (
    SELECT
      `t11`.`customer_id`,
      `t11`.`_n`,
      `t11`.`_first`,
      `t11`.`_last`,
      `t11`.`_total`,
      `t8`.`_fv`,
      `t13`.`_hcid`,
      `t13`.`_fh`,
      `t13`.`_ht`
    FROM (
      SELECT
        `t5`.`customer_id`,
        COUNT(*) AS `_n`,
        MIN(`t5`.`_d`) AS `_first`,
        MAX(`t5`.`_d`) AS `_last`,
        SUM(`t5`.`_v`) AS `_total`
      FROM (
        SELECT
          *
        FROM `t3` AS `t4`
        WHERE
          `t4`.`_d` <= 19904
      ) AS `t5`
      GROUP BY
        1
    ) AS `t11`
    INNER JOIN (
      SELECT
        `t4`.`customer_id` AS `_cid`,
        `t4`.`_d` AS `_fd`,
        `t4`.`_v` AS `_fv`
      FROM `t3` AS `t4`
      WHERE
        `t4`.`_d` <= 19904
    ) AS `t8`
      ON `t11`.`customer_id` = `t8`.`_cid` AND `t11`.`_first` = `t8`.`_fd`
    LEFT OUTER JOIN (
      SELECT
        `t10`.`customer_id` AS `_hcid`,
        `t10`.`_fh`,
        `t10`.`_ht`
      FROM (
        SELECT
          `t7`.`customer_id`,
          COUNT(*) AS `_fh`,
          SUM(`t7`.`_v`) AS `_ht`
        FROM (
          SELECT
            *
          FROM `t3` AS `t4`
          WHERE
            `t4`.`_d` > 19904 AND `t4`.`_d` <= 20088
        ) AS `t7`
        GROUP BY
          1
      ) AS `t10`
    ) AS `t13`
      ON `t11`.`customer_id` = `t13`.`_hcid`
  ) AS `t14`
) AS `t15`
