SELECT
  SUBSTRING(
    SHA2(CONCAT('s3cret', "t4"."_cid"), 256),
    IFF((
      0 + 1
    ) >= 1, 0 + 1, 0 + 1 + LENGTH(SHA2(CONCAT('s3cret', "t4"."_cid"), 256))),
    16
  ) AS "customer_id",
  "t4"."_start",
  "t4"."_last",
  "t4"."_n" AS "n_orders",
  "t4"."_after",
  "t4"."_early" AS "orders_90d"
FROM (
  SELECT
    "t3"."_cid",
    MIN("t3"."_ke") AS "_start",
    MAX("t3"."_ke") AS "_last",
    SUM(CAST("t3"."_k" AS INT)) AS "_n",
    SUM(CAST(NOT (
      "t3"."_k"
    ) AS INT)) AS "_after",
    SUM(
      CAST("t3"."_k" AND (
        "t3"."_e" < (
          "t3"."_first" + 7776000000000
        )
      ) AS INT)
    ) AS "_early"
  FROM (
    SELECT
      "t2"."_cid",
      "t2"."_e",
      "t2"."_k",
      "t2"."_ke",
      MIN("t2"."_ke") OVER (
        PARTITION BY "t2"."_cid"
        ORDER BY NULL ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS "_first"
    FROM (
      SELECT
        "t1"."_cid",
        "t1"."_e",
        "t1"."_e" <= 1735603200000000 AS "_k",
        IFF("t1"."_e" <= 1735603200000000, "t1"."_e", CAST(NULL AS BIGINT)) AS "_ke"
      FROM (
        SELECT
          "t0"."customer_id" AS "_cid",
          (
            DATEDIFF(DAY, DATE_FROM_PARTS(1970, 1, 1), TO_DATE("t0"."ordered_at")) * 86400000000
          ) + (
            (
              (
                CAST(DATE_PART(hour, "t0"."ordered_at") AS BIGINT) * 3600
              ) + (
                CAST(DATE_PART(minute, "t0"."ordered_at") AS BIGINT) * 60
              ) + CAST(DATE_PART(second, "t0"."ordered_at") AS BIGINT)
            ) * 1000000
          ) + CAST(DATE_PART('epoch_microsecond', "t0"."ordered_at") % 1000000 AS BIGINT) AS "_e"
        FROM "orders" AS "t0"
      ) AS "t1"
    ) AS "t2"
  ) AS "t3"
  GROUP BY
    1
) AS "t4"
