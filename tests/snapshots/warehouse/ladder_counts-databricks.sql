WITH `t8` AS (
  SELECT
    `t2`.`customer_id` AS `_pid`,
    UNIX_MICROS(`t2`.`ordered_at`) AS `_t`,
    CAST(NULL AS STRING) AS `_v`
  FROM `orders` AS `t2`
), `t10` AS (
  SELECT
    `t3`.`referrer_id` AS `_pid`,
    UNIX_MICROS(`t3`.`referred_at`) AS `_t`,
    CAST(NULL AS STRING) AS `_v`
  FROM `referrals` AS `t3`
), `t27` AS (
  SELECT
    `t18`.`_pid`,
    `t18`.`_v`,
    `t18`.`_t`,
    LAG(`t18`.`_t`) OVER (PARTITION BY `t18`.`_pid`, `t18`.`_v` ORDER BY `t18`.`_t` ASC NULLS LAST) AS `_prev`,
    LEAD(`t18`.`_t`) OVER (PARTITION BY `t18`.`_pid`, `t18`.`_v` ORDER BY `t18`.`_t` ASC NULLS LAST) AS `_next`
  FROM (
    SELECT DISTINCT
      `t9`.`_pid`,
      `t9`.`_v`,
      `t9`.`_t`
    FROM (
      SELECT
        `t2`.`customer_id` AS `_pid`,
        UNIX_MICROS(`t2`.`ordered_at`) AS `_t`,
        `t2`.`product_line` AS `_v`
      FROM `orders` AS `t2`
    ) AS `t9`
    WHERE
      `t9`.`_t` <= 1735603200000000 AND `t9`.`_v` IS NOT NULL
  ) AS `t18`
), `t44` AS (
  SELECT
    `t43`.`_pid`,
    `t43`.`_t`,
    SUM(`t43`.`_d0`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n0`,
    SUM(`t43`.`_d1`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n1`,
    SUM(`t43`.`_d2`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n2`,
    SUM(`t43`.`_d3`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n3`,
    SUM(`t43`.`_d4`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n4`,
    SUM(`t43`.`_d5`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n5`,
    SUM(`t43`.`_d6`) OVER (
      PARTITION BY `t43`.`_pid`
      ORDER BY `t43`.`_t` ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `_n6`
  FROM (
    SELECT
      `t42`.`_pid`,
      `t42`.`_t`,
      SUM(`t42`.`_d0`) AS `_d0`,
      SUM(`t42`.`_d1`) AS `_d1`,
      SUM(`t42`.`_d2`) AS `_d2`,
      SUM(`t42`.`_d3`) AS `_d3`,
      SUM(`t42`.`_d4`) AS `_d4`,
      SUM(`t42`.`_d5`) AS `_d5`,
      SUM(`t42`.`_d6`) AS `_d6`
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
                UNIX_MICROS(`t0`.`acquired_at`) AS `_t`,
                CAST(NULL AS STRING) AS `_v`
              FROM `customers` AS `t0`
            ) AS `t4`
            WHERE
              `t4`.`_t` <= 1735603200000000
          ) AS `t14`
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
                UNIX_MICROS(`t1`.`contacted_at`) AS `_t`,
                CAST(NULL AS STRING) AS `_v`
              FROM `contacts` AS `t1`
            ) AS `t6`
            WHERE
              `t6`.`_t` <= 1735603200000000
          ) AS `t16`
        ) AS `t19`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t7`.`_pid`,
              `t7`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              1 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                `t2`.`customer_id` AS `_pid`,
                UNIX_MICROS(`t2`.`ordered_at`) AS `_t`,
                CAST(NULL AS STRING) AS `_v`
              FROM `orders` AS `t2`
            ) AS `t7`
            WHERE
              `t7`.`_t` <= 1735603200000000
          ) AS `t17`
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              `t29`.`_pid`,
              `t29`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              1 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              0 AS `_d6`
            FROM (
              SELECT
                `t25`.`_pid`,
                `t25`.`_v`,
                MIN(`t25`.`_t`) AS `_t`
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    `t2`.`customer_id` AS `_pid`,
                    UNIX_MICROS(`t2`.`ordered_at`) AS `_t`,
                    CAST(DATEDIFF(DAY, MAKE_DATE(1970, 1, 1), CAST(`t2`.`ordered_at` AS DATE)) AS STRING) AS `_v`
                  FROM `orders` AS `t2`
                ) AS `t13`
                WHERE
                  `t13`.`_t` <= 1735603200000000 AND `t13`.`_v` IS NOT NULL
              ) AS `t25`
              GROUP BY
                1,
                2
            ) AS `t29`
          ) AS `t33`
        ) AS `t34`
      ) AS `t35`
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
                FROM `t8` AS `t11`
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
                FROM `t8` AS `t11`
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
              `t38`.`_pid`,
              `t38`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              `t38`.`_d` AS `_d5`,
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
              ) AS `t36`
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
              ) AS `t37`
            ) AS `t38`
            WHERE
              `t38`.`_t` <= 1735603200000000
          ) AS `t39`
        ) AS `t40`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t26`.`_pid`,
              `t26`.`_t`,
              0 AS `_d0`,
              0 AS `_d1`,
              0 AS `_d2`,
              0 AS `_d3`,
              0 AS `_d4`,
              0 AS `_d5`,
              `t26`.`_d` AS `_d6`
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
            ) AS `t26`
            WHERE
              `t26`.`_t` <= 1735603200000000
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
                UNIX_MICROS(`t0`.`acquired_at`) AS `_t`,
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
          ) AS `t15`
        ) AS `t32`
      ) AS `t41`
    ) AS `t42`
    GROUP BY
      1,
      2
  ) AS `t43`
)
SELECT
  `t60`.`_rank` AS `stage_rank`,
  `t60`.`persons`
FROM (
  SELECT
    `t59`.`_rank`,
    COUNT(*) AS `persons`
  FROM (
    SELECT
      `t58`.`_pid`,
      IF(
        `t58`.`_r5` IS NOT NULL,
        5,
        IF(
          `t58`.`_r4` IS NOT NULL,
          4,
          IF(
            `t58`.`_r3` IS NOT NULL,
            3,
            IF(
              `t58`.`_r2` IS NOT NULL,
              2,
              IF(`t58`.`_r1` IS NOT NULL, 1, IF(`t58`.`_r0` IS NOT NULL, 0, CAST(NULL AS BIGINT)))
            )
          )
        )
      ) AS `_rank`
    FROM (
      SELECT
        `t57`.`_pid`,
        MIN(
          IF(
            (
              `t57`.`_n0` >= 1
            )
            AND NOT (
              `t57`.`_n1` >= 1
            )
            AND NOT (
              `t57`.`_n2` >= 1
            ),
            `t57`.`_t`,
            CAST(NULL AS BIGINT)
          )
        ) AS `_r0`,
        MIN(
          IF(
            (
              `t57`.`_n1` >= 1
            ) AND NOT (
              `t57`.`_n2` >= 1
            ),
            `t57`.`_t`,
            CAST(NULL AS BIGINT)
          )
        ) AS `_r1`,
        MIN(IF(`t57`.`_n2` >= 1, `t57`.`_t`, CAST(NULL AS BIGINT))) AS `_r2`,
        MIN(IF(`t57`.`_n3` >= 2, `t57`.`_t`, CAST(NULL AS BIGINT))) AS `_r3`,
        MIN(
          IF(
            (
              (
                `t57`.`_n4` >= 4
              ) OR (
                `t57`.`_n5` >= 2
              )
            )
            AND (
              `t57`.`_r_repeat_customer` IS NOT NULL
            )
            AND (
              `t57`.`_t` >= `t57`.`_r_repeat_customer`
            ),
            `t57`.`_t`,
            CAST(NULL AS BIGINT)
          )
        ) AS `_r4`,
        MIN(
          IF(
            (
              `t57`.`_n6` >= 1
            )
            AND (
              `t57`.`_r_client` IS NOT NULL
            )
            AND (
              `t57`.`_t` >= `t57`.`_r_client`
            ),
            `t57`.`_t`,
            CAST(NULL AS BIGINT)
          )
        ) AS `_r5`
      FROM (
        SELECT
          `t56`.`_pid`,
          `t56`.`_t`,
          `t56`.`_n0`,
          `t56`.`_n1`,
          `t56`.`_n2`,
          `t56`.`_n3`,
          `t56`.`_n4`,
          `t56`.`_n5`,
          `t56`.`_n6`,
          `t56`.`_r_repeat_customer`,
          `t56`.`_r_client`
        FROM (
          SELECT
            `t52`.`_pid`,
            `t52`.`_t`,
            `t52`.`_n0`,
            `t52`.`_n1`,
            `t52`.`_n2`,
            `t52`.`_n3`,
            `t52`.`_n4`,
            `t52`.`_n5`,
            `t52`.`_n6`,
            `t52`.`_r_repeat_customer`,
            `t55`.`_rp`,
            `t55`.`_r_client`
          FROM (
            SELECT
              `t50`.`_pid`,
              `t50`.`_t`,
              `t50`.`_n0`,
              `t50`.`_n1`,
              `t50`.`_n2`,
              `t50`.`_n3`,
              `t50`.`_n4`,
              `t50`.`_n5`,
              `t50`.`_n6`,
              `t50`.`_r_repeat_customer`
            FROM (
              SELECT
                `t46`.`_pid`,
                `t46`.`_t`,
                `t46`.`_n0`,
                `t46`.`_n1`,
                `t46`.`_n2`,
                `t46`.`_n3`,
                `t46`.`_n4`,
                `t46`.`_n5`,
                `t46`.`_n6`,
                `t49`.`_rp`,
                `t49`.`_r_repeat_customer`
              FROM `t44` AS `t46`
              INNER JOIN (
                SELECT
                  `t47`.`_pid` AS `_rp`,
                  `t47`.`_r_repeat_customer`
                FROM (
                  SELECT
                    `t45`.`_pid`,
                    MIN(IF(`t45`.`_n3` >= 2, `t45`.`_t`, CAST(NULL AS BIGINT))) AS `_r_repeat_customer`
                  FROM `t44` AS `t45`
                  GROUP BY
                    1
                ) AS `t47`
              ) AS `t49`
                ON `t46`.`_pid` = `t49`.`_rp`
            ) AS `t50`
          ) AS `t52`
          INNER JOIN (
            SELECT
              `t53`.`_pid` AS `_rp`,
              `t53`.`_r_client`
            FROM (
              SELECT
                `t51`.`_pid`,
                MIN(
                  IF(
                    (
                      (
                        `t51`.`_n4` >= 4
                      ) OR (
                        `t51`.`_n5` >= 2
                      )
                    )
                    AND (
                      `t51`.`_r_repeat_customer` IS NOT NULL
                    )
                    AND (
                      `t51`.`_t` >= `t51`.`_r_repeat_customer`
                    ),
                    `t51`.`_t`,
                    CAST(NULL AS BIGINT)
                  )
                ) AS `_r_client`
              FROM (
                SELECT
                  `t50`.`_pid`,
                  `t50`.`_t`,
                  `t50`.`_n0`,
                  `t50`.`_n1`,
                  `t50`.`_n2`,
                  `t50`.`_n3`,
                  `t50`.`_n4`,
                  `t50`.`_n5`,
                  `t50`.`_n6`,
                  `t50`.`_r_repeat_customer`
                FROM (
                  SELECT
                    `t46`.`_pid`,
                    `t46`.`_t`,
                    `t46`.`_n0`,
                    `t46`.`_n1`,
                    `t46`.`_n2`,
                    `t46`.`_n3`,
                    `t46`.`_n4`,
                    `t46`.`_n5`,
                    `t46`.`_n6`,
                    `t49`.`_rp`,
                    `t49`.`_r_repeat_customer`
                  FROM `t44` AS `t46`
                  INNER JOIN (
                    SELECT
                      `t47`.`_pid` AS `_rp`,
                      `t47`.`_r_repeat_customer`
                    FROM (
                      SELECT
                        `t45`.`_pid`,
                        MIN(IF(`t45`.`_n3` >= 2, `t45`.`_t`, CAST(NULL AS BIGINT))) AS `_r_repeat_customer`
                      FROM `t44` AS `t45`
                      GROUP BY
                        1
                    ) AS `t47`
                  ) AS `t49`
                    ON `t46`.`_pid` = `t49`.`_rp`
                ) AS `t50`
              ) AS `t51`
              GROUP BY
                1
            ) AS `t53`
          ) AS `t55`
            ON `t52`.`_pid` = `t55`.`_rp`
        ) AS `t56`
      ) AS `t57`
      GROUP BY
        1
    ) AS `t58`
  ) AS `t59`
  GROUP BY
    1
) AS `t60`
