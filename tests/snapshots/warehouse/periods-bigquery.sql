WITH `t1` AS (
  SELECT
    `t0`.`customer_id` AS `_cid`,
    (
      DATE_DIFF(DATE(`t0`.`ordered_at`), DATE(1970, 1, 1), DAY) * 86400000000
    ) + (
      (
        (
          CAST(EXTRACT(hour FROM `t0`.`ordered_at`) AS INT64) * 3600
        ) + (
          CAST(EXTRACT(minute FROM `t0`.`ordered_at`) AS INT64) * 60
        ) + CAST(EXTRACT(second FROM `t0`.`ordered_at`) AS INT64)
      ) * 1000000
    ) + CAST(EXTRACT(microsecond FROM `t0`.`ordered_at`) AS INT64) AS `_e`,
    (
      CAST(EXTRACT(year FROM `t0`.`ordered_at`) AS INT64) * 4
    ) + CAST(FLOOR(ieee_divide(CAST(EXTRACT(month FROM `t0`.`ordered_at`) AS INT64) - 1, 3)) AS INT64) AS `_p`,
    `t0`.`amount` AS `_a`
  FROM `orders` AS `t0`
), `t3` AS (
  SELECT
    *
  FROM `t1` AS `t2`
  WHERE
    `t2`.`_e` <= 1735603200000000
), `t4` AS (
  SELECT DISTINCT
    `t2`.`_cid`,
    `t2`.`_p`
  FROM `t1` AS `t2`
  WHERE
    `t2`.`_e` <= 1735603200000000
), `t9` AS (
  SELECT
    `t5`.`_p`,
    COUNT(*) AS `orders`,
    SUM(`t5`.`_a`) AS `revenue`,
    COUNT(DISTINCT `t5`.`_cid`) AS `buyers`
  FROM `t3` AS `t5`
  GROUP BY
    1
), `t20` AS (
  SELECT
    `t19`.`_rp`,
    COUNT(*) AS `at_risk`,
    SUM(CAST(`t19`.`_kept` IS NULL AS INT64)) AS `lost`
  FROM (
    SELECT
      `t13`.`_rc`,
      `t13`.`_rp`,
      `t11`.`_kc`,
      `t11`.`_kp`,
      `t11`.`_kept`
    FROM (
      SELECT
        `t6`.`_cid` AS `_rc`,
        `t6`.`_p` + 1 AS `_rp`
      FROM `t4` AS `t6`
    ) AS `t13`
    LEFT OUTER JOIN (
      SELECT
        `t6`.`_cid` AS `_kc`,
        `t6`.`_p` AS `_kp`,
        1 AS `_kept`
      FROM `t4` AS `t6`
    ) AS `t11`
      ON `t13`.`_rc` = `t11`.`_kc` AND `t13`.`_rp` = `t11`.`_kp`
  ) AS `t19`
  GROUP BY
    1
)
SELECT
  `t33`.`_p`,
  COALESCE(`t33`.`buyers`, 0) AS `buyers`,
  COALESCE(`t33`.`new_buyers`, 0) AS `new_buyers`,
  COALESCE(`t33`.`orders`, 0) AS `orders`,
  COALESCE(`t33`.`revenue`, 0.0) AS `revenue`,
  COALESCE(`t33`.`at_risk`, 0) AS `at_risk`,
  COALESCE(`t33`.`lost`, 0) AS `lost`
FROM (
  SELECT
    `t32`.*
    EXCEPT (`_rp`)
  FROM (
    SELECT
      `t31`.`_p`,
      `t31`.`orders`,
      `t31`.`revenue`,
      `t31`.`buyers`,
      `t31`.`new_buyers`,
      `t22`.`_rp`,
      `t22`.`at_risk`,
      `t22`.`lost`
    FROM (
      SELECT
        `t29`.*
        EXCEPT (`_f`)
      FROM (
        SELECT
          `t28`.`_p`,
          `t28`.`orders`,
          `t28`.`revenue`,
          `t28`.`buyers`,
          `t15`.`_f`,
          `t15`.`new_buyers`
        FROM (
          SELECT
            `t26`.*
            EXCEPT (`_bp`)
          FROM (
            SELECT
              `t25`.`_p`,
              `t18`.`_bp`,
              `t18`.`orders`,
              `t18`.`revenue`,
              `t18`.`buyers`
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  `t12`.`_p`
                FROM `t9` AS `t12`
              ) AS `t16`
              UNION DISTINCT
              SELECT
                *
              FROM (
                SELECT
                  `t21`.`_rp` AS `_p`
                FROM `t20` AS `t21`
              ) AS `t23`
            ) AS `t25`
            LEFT OUTER JOIN (
              SELECT
                `t12`.`_p` AS `_bp`,
                `t12`.`orders`,
                `t12`.`revenue`,
                `t12`.`buyers`
              FROM `t9` AS `t12`
            ) AS `t18`
              ON `t25`.`_p` = `t18`.`_bp`
          ) AS `t26`
        ) AS `t28`
        LEFT OUTER JOIN (
          SELECT
            `t8`.`_f`,
            COUNT(*) AS `new_buyers`
          FROM (
            SELECT
              `t5`.`_cid`,
              MIN(`t5`.`_p`) AS `_f`
            FROM `t3` AS `t5`
            GROUP BY
              1
          ) AS `t8`
          GROUP BY
            1
        ) AS `t15`
          ON `t28`.`_p` = `t15`.`_f`
      ) AS `t29`
    ) AS `t31`
    LEFT OUTER JOIN `t20` AS `t22`
      ON `t31`.`_p` = `t22`.`_rp`
  ) AS `t32`
) AS `t33`
