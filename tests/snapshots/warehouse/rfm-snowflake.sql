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
        DATEDIFF(DAY, DATE_FROM_PARTS(1970, 1, 1), TO_DATE("t0"."ordered_at")) AS "_d",
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
  SUBSTRING(
    SHA2(CONCAT('s3cret', "t15"."customer_id"), 256),
    IFF(
      (
        0 + 1
      ) >= 1,
      0 + 1,
      0 + 1 + LENGTH(SHA2(CONCAT('s3cret', "t15"."customer_id"), 256))
    ),
    16
  ) AS "customer_id",
  "t15"."_n" - 1 AS "frequency",
  CAST("t15"."_last" - "t15"."_first" AS DOUBLE) / 7.0 AS "recency",
  CAST(19904 - "t15"."_first" AS DOUBLE) / 7.0 AS "T",
  IFF(
    (
      "t15"."_n" - 1
    ) > 0,
    (
      "t15"."_total" - "t15"."_fv"
    ) / CAST("t15"."_n" - 1 AS DOUBLE),
    0.0
  ) AS "monetary_value",
  COALESCE("t15"."_fh", 0) AS "frequency_holdout",
  IFF(
    COALESCE("t15"."_fh", 0) > 0,
    "t15"."_ht" / CAST(COALESCE("t15"."_fh", 0) AS DOUBLE),
    0.0
  ) AS "monetary_value_holdout",
  CAST(184 AS DOUBLE) / 7.0 AS "duration_holdout"
FROM (
  SELECT
    "t14".*
    EXCLUDE ("_hcid")
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
