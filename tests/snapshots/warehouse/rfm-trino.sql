WITH "t3" AS (
  SELECT
    "t2"."customer_id",
    "t2"."_d",
    SUM("t2"."amount") AS "_v"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t0"."customer_id",
        DATE_DIFF(
          'DAY',
          DATE_TRUNC('DAY', FROM_ISO8601_DATE(FORMAT('%04d-%02d-%02d', 1970, 1, 1))),
          DATE_TRUNC('DAY', DATE("t0"."ordered_at"))
        ) AS "_d",
        "t0"."amount"
      FROM "orders" AS "t0"
    ) AS "t1"
    WHERE
      "t1"."_d" <= 20088
  ) AS "t2"
  GROUP BY
    1,
    2
)
SELECT
  SUBSTR(
    LOWER(TO_HEX(SHA256(TO_UTF8(CONCAT('s3cret', "t15"."customer_id"))))),
    IF(
      (
        0 + 1
      ) >= 1,
      0 + 1,
      0 + 1 + LENGTH(LOWER(TO_HEX(SHA256(TO_UTF8(CONCAT('s3cret', "t15"."customer_id"))))))
    ),
    16
  ) AS "customer_id",
  "t15"."_n" - 1 AS "frequency",
  CAST("t15"."_last" - "t15"."_first" AS DOUBLE) / CAST(7.0 AS DOUBLE) AS "recency",
  CAST(19904 - "t15"."_first" AS DOUBLE) / CAST(7.0 AS DOUBLE) AS "T",
  IF(
    (
      "t15"."_n" - 1
    ) > 0,
    (
      "t15"."_total" - "t15"."_fv"
    ) / CAST("t15"."_n" - 1 AS DOUBLE),
    CAST(0.0 AS DOUBLE)
  ) AS "monetary_value",
  COALESCE("t15"."_fh", 0) AS "frequency_holdout",
  IF(
    COALESCE("t15"."_fh", 0) > 0,
    "t15"."_ht" / CAST(COALESCE("t15"."_fh", 0) AS DOUBLE),
    CAST(0.0 AS DOUBLE)
  ) AS "monetary_value_holdout",
  CAST(184 AS DOUBLE) / CAST(7.0 AS DOUBLE) AS "duration_holdout"
FROM (
  SELECT
    "t14"."customer_id",
    "t14"."_n",
    "t14"."_first",
    "t14"."_last",
    "t14"."_total",
    "t14"."_fv",
    "t14"."_fh",
    "t14"."_ht"
  FROM (
    SELECT
      "t11"."customer_id",
      "t11"."_n",
      "t11"."_first",
      "t11"."_last",
      "t11"."_total",
      "t8"."_fv",
      "t13"."_hcid",
      "t13"."_fh",
      "t13"."_ht"
    FROM (
      SELECT
        "t5"."customer_id",
        COUNT(*) AS "_n",
        MIN("t5"."_d") AS "_first",
        MAX("t5"."_d") AS "_last",
        SUM("t5"."_v") AS "_total"
      FROM (
        SELECT
          *
        FROM "t3" AS "t4"
        WHERE
          "t4"."_d" <= 19904
      ) AS "t5"
      GROUP BY
        1
    ) AS "t11"
    INNER JOIN (
      SELECT
        "t4"."customer_id" AS "_cid",
        "t4"."_d" AS "_fd",
        "t4"."_v" AS "_fv"
      FROM "t3" AS "t4"
      WHERE
        "t4"."_d" <= 19904
    ) AS "t8"
      ON "t11"."customer_id" = "t8"."_cid" AND "t11"."_first" = "t8"."_fd"
    LEFT OUTER JOIN (
      SELECT
        "t10"."customer_id" AS "_hcid",
        "t10"."_fh",
        "t10"."_ht"
      FROM (
        SELECT
          "t7"."customer_id",
          COUNT(*) AS "_fh",
          SUM("t7"."_v") AS "_ht"
        FROM (
          SELECT
            *
          FROM "t3" AS "t4"
          WHERE
            "t4"."_d" > 19904 AND "t4"."_d" <= 20088
        ) AS "t7"
        GROUP BY
          1
      ) AS "t10"
    ) AS "t13"
      ON "t11"."customer_id" = "t13"."_hcid"
  ) AS "t14"
) AS "t15"
