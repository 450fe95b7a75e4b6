WITH `t7` AS (
  SELECT
    `t2`.`customer_id` AS `_pid`,
    (
      DATE_DIFF(DATE(`t2`.`ordered_at`), DATE(1970, 1, 1), DAY) * 86400000000
    ) + (
      (
        (
          CAST(EXTRACT(hour FROM `t2`.`ordered_at`) AS INT64) * 3600
        ) + (
          CAST(EXTRACT(minute FROM `t2`.`ordered_at`) AS INT64) * 60
        ) + CAST(EXTRACT(second FROM `t2`.`ordered_at`) AS INT64)
      ) * 1000000
    ) + CAST(EXTRACT(microsecond FROM `t2`.`ordered_at`) AS INT64) AS `_t`,
    CAST(NULL AS STRING) AS `_v`
  FROM `orders` AS `t2`
), `t10` AS (
  SELECT
    `t3`.`referrer_id` AS `_pid`,
    (
      DATE_DIFF(DATE(`t3`.`referred_at`), DATE(1970, 1, 1), DAY) * 86400000000
    ) + (
      (
        (
          CAST(EXTRACT(hour FROM `t3`.`referred_at`) AS INT64) * 3600
        ) + (
          CAST(EXTRACT(minute FROM `t3`.`referred_at`) AS INT64) * 60
        ) + CAST(EXTRACT(second FROM `t3`.`referred_at`) AS INT64)
      ) * 1000000
    ) + CAST(EXTRACT(microsecond FROM `t3`.`referred_at`) AS INT64) AS `_t`,
    CAST(NULL AS STRING) AS `_v`
  FROM `referrals` AS `t3`
), `t27` AS (
  SELECT
    `t17`.`_pid`,
    `t17`.`_v`,
    `t17`.`_t`,
    LAG(`t17`.`_t`) OVER (PARTITION BY `t17`.`_pid`, `t17`.`_v` ORDER BY `t17`.`_t` ASC) AS `_prev`,
    LEAD(`t17`.`_t`) OVER (PARTITION BY `t17`.`_pid`, `t17`.`_v` ORDER BY `t17`.`_t` ASC) AS `_next`
  FROM (
    SELECT DISTINCT
      `t9`.`_pid`,
      `t9`.`_v`,
      `t9`.`_t`
    FROM (
      SELECT
        `t2`.`customer_id` AS `_pid`,
        (
          DATE_DIFF(DATE(`t2`.`ordered_at`), DATE(1970, 1, 1), DAY) * 86400000000
        ) + (
          (
            (
              CAST(EXTRACT(hour FROM `t2`.`ordered_at`) AS INT64) * 3600
            ) + (
              CAST(EXTRACT(minute FROM `t2`.`ordered_at`) AS INT64) * 60
            ) + CAST(EXTRACT(second FROM `t2`.`ordered_at`) AS INT64)
          ) * 1000000
        ) + CAST(EXTRACT(microsecond FROM `t2`.`ordered_at`) AS INT64) AS `_t`,
        `t2`.`product_line` AS `_v`
      FROM `orders` AS `t2`
    ) AS `t9`
    WHERE
      `t9`.`_t` <= 1735603200000000 AND `t9`.`_v` IS NOT NULL
  ) AS `t17`
), `t43` AS (
  SELECT
    `t42`.`_pid`,
    `t42`.`_t`,
    SUM(`t42`.`_d0`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n0`,
    SUM(`t42`.`_d1`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n1`,
    SUM(`t42`.`_d2`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n2`,
    SUM(`t42`.`_d3`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n3`,
    SUM(`t42`.`_d4`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n4`,
    SUM(`t42`.`_d5`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n5`,
    SUM(`t42`.`_d6`) OVER (
      PARTITION BY `t42`.`_pid`
      ORDER BY `t42`.`_t` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n6`
  FROM (
    SELECT
      `t41`.`_pid`,
      `t41`.`_t`,
      SUM(`t41`.`_d0`) AS `_d0`,
      SUM(`t41`.`_d1`) AS `_d1`,
      SUM(`t41`.`_d2`) AS `_d2`,
      SUM(`t41`.`_d3`) AS `_d3`,
      SUM(`t41`.`_d4`) AS `_d4`,
      SUM(`t41`.`_d5`) AS `_d5`,
      SUM(`t41`.`_d6`) AS `_d6`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t4`.`_pid`,
              `t4`.`_t`,
              1 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                `t0`.`customer_id` AS `_pid`,
                (
                  DATE_DIFF(DATE(`t0`.`acquired_at`), DATE(1970, 1, 1), DAY) * 86400000000
                ) + (
                  (
                    (
                      CAST(EXTRACT(hour FROM `t0`.`acquired_at`) AS INT64) * 3600
                    ) + (
                      CAST(EXTRACT(minute FROM `t0`.`acquired_at`) AS INT64) * 60
                    ) + CAST(EXTRACT(second FROM `t0`.`acquired_at`) AS INT64)
                  ) * 1000000
                ) + CAST(EXTRACT(microsecond FROM `t0`.`acquired_at`) AS INT64) AS `_t`,
                CAST(NULL AS STRING) AS `_v`
              FROM `customers` AS `t0`
            ) AS `t4`
            WHERE
              `t4`.`_t` <= 1735603200000000
          ) AS `t13`
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              `t6`.`_pid`,
              `t6`.`_t`,
              0 AS `_d0`,
              1 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                `t1`.`customer_id` AS `_pid`,
                (
                  DATE_DIFF(DATE(`t1`.`contacted_at`), DATE(1970, 1, 1), DAY) * 86400000000
                ) + (
                  (
                    (
                      CAST(EXTRACT(hour FROM `t1`.`contacted_at`) AS INT64) * 3600
                    ) + (
                      CAST(EXTRACT(minute FROM `t1`.`contacted_at`) AS INT64) * 60
                    ) + CAST(EXTRACT(second FROM `t1`.`contacted_at`) AS INT64)
                  ) * 1000000
                ) + CAST(EXTRACT(microsecond FROM `t1`.`contacted_at`) AS INT64) AS `_t`,
                CAST(NULL AS STRING) AS `_v`
              FROM `contacts` AS `t1`
            ) AS `t6`
            WHERE
              `t6`.`_t` <= 1735603200000000
          ) AS `t15`
        ) AS `t18`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t11`.`_pid`,
              `t11`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              1 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM `t7` AS `t11`
            WHERE
              `t11`.`_t` <= 1735603200000000
          ) AS `t19`
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              `t26`.`_pid`,
              `t26`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              1 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                `t16`.`_pid`,
                `t16`.`_v`,
                MIN(`t16`.`_t`) AS `_t`
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    `t2`.`customer_id` AS `_pid`,
                    (
                      DATE_DIFF(DATE(`t2`.`ordered_at`), DATE(1970, 1, 1), DAY) * 86400000000
                    ) + (
                      (
                        (
                          CAST(EXTRACT(hour FROM `t2`.`ordered_at`) AS INT64) * 3600
                        ) + (
                          CAST(EXTRACT(minute FROM `t2`.`ordered_at`) AS INT64) * 60
                        ) + CAST(EXTRACT(second FROM `t2`.`ordered_at`) AS INT64)
                      ) * 1000000
                    ) + CAST(EXTRACT(microsecond FROM `t2`.`ordered_at`) AS INT64) AS `_t`,
                    CAST(DATE_DIFF(DATE(`t2`.`ordered_at`), DATE(1970, 1, 1), DAY) AS STRING) AS `_v`
                  FROM `orders` AS `t2`
                ) AS `t8`
                WHERE
                  `t8`.`_t` <= 1735603200000000 AND `t8`.`_v` IS NOT NULL
              ) AS `t16`
              GROUP BY
                1,
                2
            ) AS `t26`
          ) AS `t29`
        ) AS `t32`
      ) AS `t34`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t24`.`_pid`,
              `t24`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              `t24`.`_d` AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  `t11`.`_pid`,
                  `t11`.`_t`,
                  1 AS `_d`
                FROM `t7` AS `t11`
                WHERE
                  `t11`.`_t` <= 1735603200000000
              ) AS `t20`
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  `t11`.`_pid`,
                  `t11`.`_t` + 31536000000000 AS `_t`,
                  -(
                    1
                  ) AS `_d`
                FROM `t7` AS `t11`
                WHERE
                  `t11`.`_t` <= 1735603200000000
              ) AS `t21`
            ) AS `t24`
            WHERE
              `t24`.`_t` <= 1735603200000000
          ) AS `t28`
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              `t37`.`_pid`,
              `t37`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              `t37`.`_d` AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  `t30`.`_pid`,
                  `t30`.`_t`,
                  1 AS `_d`
                FROM `t27` AS `t30`
                WHERE
                  (
                    `t30`.`_prev` IS NULL
                  )
                  OR (
                    (
                      `t30`.`_t` - `t30`.`_prev`
                    ) >= 31536000000000
                  )
              ) AS `t35`
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  `t30`.`_pid`,
                  `t30`.`_t` + 31536000000000 AS `_t`,
                  -(
                    1
                  ) AS `_d`
                FROM `t27` AS `t30`
                WHERE
                  (
                    `t30`.`_next` IS NULL
                  )
                  OR (
                    (
                      `t30`.`_next` - `t30`.`_t`
                    ) >= 31536000000000
                  )
              ) AS `t36`
            ) AS `t37`
            WHERE
              `t37`.`_t` <= 1735603200000000
          ) AS `t38`
        ) AS `t39`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t25`.`_pid`,
              `t25`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              `t25`.`_d` AS `_d6`
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  `t12`.`_pid`,
                  `t12`.`_t`,
                  1 AS `_d`
                FROM `t10` AS `t12`
                WHERE
                  `t12`.`_t` <= 1735603200000000
              ) AS `t22`
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  `t12`.`_pid`,
                  `t12`.`_t` + 63072000000000 AS `_t`,
                  -(
                    1
                  ) AS `_d`
                FROM `t10` AS `t12`
                WHERE
                  `t12`.`_t` <= 1735603200000000
              ) AS `t23`
            ) AS `t25`
            WHERE
              `t25`.`_t` <= 1735603200000000
          ) AS `t31`
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              *
            FROM (
              SELECT
                `t0`.`customer_id` AS `_pid`,
                (
                  DATE_DIFF(DATE(`t0`.`acquired_at`), DATE(1970, 1, 1), DAY) * 86400000000
                ) + (
                  (
                    (
                      CAST(EXTRACT(hour FROM `t0`.`acquired_at`) AS INT64) * 3600
                    ) + (
                      CAST(EXTRACT(minute FROM `t0`.`acquired_at`) AS INT64) * 60
                    ) + CAST(EXTRACT(second FROM `t0`.`acquired_at`) AS INT64)
                  ) * 1000000
                ) + CAST(EXTRACT(microsecond FROM `t0`.`acquired_at`) AS INT64) AS `_t`,
                0 AS `_d0`,
                0 AS `_d1`,
                0 AS `_d2`,
                0 AS `_d3`,
                0 AS `_d4`,
                0 AS `_d5`,
                0 AS `_d6`
              FROM `customers` AS `t0`
            ) AS `t5`
            WHERE
              `t5`.`_t` <= 1735603200000000
          ) AS `t14`
        ) AS `t33`
      ) AS `t40`
    ) AS `t41`
    GROUP BY
      1,
      2
  ) AS `t42`
)
SELECT
  SUBSTRING(
    TO_HEX(SHA256(CONCAT('s3cret', `t58`.`_pid`))),
    IF(
      (
        0 + 1
      ) >= 1,
      0 + 1,
      0 + 1 + LENGTH(TO_HEX(SHA256(CONCAT('s3cret', `t58`.`_pid`))))
    ),
    16
  ) AS `customer_id`,
  `t58`.`_rank` AS `stage_rank`
FROM (
  SELECT
    `t57`.`_pid`,
    IF(
      `t57`.`_r5` IS NOT NULL,
      5,
      IF(
        `t57`.`_r4` IS NOT NULL,
        4,
        IF(
          `t57`.`_r3` IS NOT NULL,
          3,
          IF(
            `t57`.`_r2` IS NOT NULL,
            2,
            IF(`t57`.`_r1` IS NOT NULL, 1, IF(`t57`.`_r0` IS NOT NULL, 0, CAST(NULL AS INT64)))
          )
        )
      )
    ) AS `_rank`
  FROM (
    SELECT
      `t56`.`_pid`,
      MIN(
        IF(
          (
            `t56`.`_n0` >= 1
          )
          AND NOT (
            `t56`.`_n1` >= 1
          )
          AND NOT (
            `t56`.`_n2` >= 1
          ),
          `t56`.`_t`,
          CAST(NULL AS INT64)
        )
      ) AS `_r0`,
      MIN(
        IF(
          (
            `t56`.`_n1` >= 1
          ) AND NOT (
            `t56`.`_n2` >= 1
          ),
          `t56`.`_t`,
          CAST(NULL AS INT64)
        )
      ) AS `_r1`,
      MIN(IF(`t56`.`_n2` >= 1, `t56`.`_t`, CAST(NULL AS INT64))) AS `_r2`,
      MIN(IF(`t56`.`_n3` >= 2, `t56`.`_t`, CAST(NULL AS INT64))) AS `_r3`,
      MIN(
        IF(
          (
            (
              `t56`.`_n4` >= 4
            ) OR (
              `t56`.`_n5` >= 2
            )
          )
          AND (
            `t56`.`_r_repeat_customer` IS NOT NULL
          )
          AND (
            `t56`.`_t` >= `t56`.`_r_repeat_customer`
          ),
          `t56`.`_t`,
          CAST(NULL AS INT64)
        )
      ) AS `_r4`,
      MIN(
        IF(
          (
            `t56`.`_n6` >= 1
          )
          AND (
            `t56`.`_r_client` IS NOT NULL
          )
          AND (
            `t56`.`_t` >= `t56`.`_r_client`
          ),
          `t56`.`_t`,
          CAST(NULL AS INT64)
        )
      ) AS `_r5`
    FROM (
      SELECT
        `t55`.*
        EXCEPT (`_rp`)
      FROM (
        SELECT
          `t51`.`_pid`,
          `t51`.`_t`,
          `t51`.`_n0`,
          `t51`.`_n1`,
          `t51`.`_n2`,
          `t51`.`_n3`,
          `t51`.`_n4`,
          `t51`.`_n5`,
          `t51`.`_n6`,
          `t51`.`_r_repeat_customer`,
          `t54`.`_rp`,
          `t54`.`_r_client`
        FROM (
          SELECT
            `t49`.*
            EXCEPT (`_rp`)
          FROM (
            SELECT
              `t45`.`_pid`,
              `t45`.`_t`,
              `t45`.`_n0`,
              `t45`.`_n1`,
              `t45`.`_n2`,
              `t45`.`_n3`,
              `t45`.`_n4`,
              `t45`.`_n5`,
              `t45`.`_n6`,
              `t48`.`_rp`,
              `t48`.`_r_repeat_customer`
            FROM `t43` AS `t45`
            INNER JOIN (
              SELECT
                `t46`.`_pid` AS `_rp`,
                `t46`.`_r_repeat_customer`
              FROM (
                SELECT
                  `t44`.`_pid`,
                  MIN(IF(`t44`.`_n3` >= 2, `t44`.`_t`, CAST(NULL AS INT64))) AS `_r_repeat_customer`
                FROM `t43` AS `t44`
                GROUP BY
                  1
              ) AS `t46`
            ) AS `t48`
              ON `t45`.`_pid` = `t48`.`_rp`
          ) AS `t49`
        ) AS `t51`
        INNER JOIN (
          SELECT
            `t52`.`_pid` AS `_rp`,
            `t52`.`_r_client`
          FROM (
            SELECT
              `t50`.`_pid`,
              MIN(
                IF(
                  (
                    (
                      `t50`.`_n4` >= 4
                    ) OR (
                      `t50`.`_n5` >= 2
                    )
                  )
                  AND (
                    `t50`.`_r_repeat_customer` IS NOT NULL
                  )
                  AND (
                    `t50`.`_t` >= `t50`.`_r_repeat_customer`
                  ),
                  `t50`.`_t`,
                  CAST(NULL AS INT64)
                )
              ) AS `_r_client`
            FROM (
              SELECT
                `t49`.*
                EXCEPT (`_rp`)
              FROM (
                SELECT
                  `t45`.`_pid`,
                  `t45`.`_t`,
                  `t45`.`_n0`,
                  `t45`.`_n1`,
                  `t45`.`_n2`,
                  `t45`.`_n3`,
                  `t45`.`_n4`,
                  `t45`.`_n5`,
                  `t45`.`_n6`,
                  `t48`.`_rp`,
                  `t48`.`_r_repeat_customer`
                FROM `t43` AS `t45`
                INNER JOIN (
                  SELECT
                    `t46`.`_pid` AS `_rp`,
                    `t46`.`_r_repeat_customer`
                  FROM (
                    SELECT
                      `t44`.`_pid`,
                      MIN(IF(`t44`.`_n3` >= 2, `t44`.`_t`, CAST(NULL AS INT64))) AS `_r_repeat_customer`
                    FROM `t43` AS `t44`
                    GROUP BY
                      1
                  ) AS `t46`
                ) AS `t48`
                  ON `t45`.`_pid` = `t48`.`_rp`
              ) AS `t49`
            ) AS `t50`
            GROUP BY
              1
          ) AS `t52`
        ) AS `t54`
          ON `t51`.`_pid` = `t54`.`_rp`
      ) AS `t55`
    ) AS `t56`
    GROUP BY
      1
  ) AS `t57`
) AS `t58`
