-- Hand-written: each settlement with the figures in force (billing/README.md, "Corrections"): a paid
-- settlement never changes, so its latest correction's metered Wh, amount and reference replace the
-- imported ones. The one computation of those figures: reconciliation, the adjust policy, the cash
-- position, GET /settlements and Grafana's Cash position dashboard all read this view.
CREATE VIEW "settlements_in_force" AS
SELECT s."id", s."installation_id", s."period_from", s."period_until",
       COALESCE(c."metered_wh", s."metered_wh") AS "metered_wh",
       COALESCE(c."amount_rials", s."amount_rials") AS "amount_rials",
       COALESCE(c."reference", s."reference") AS "reference",
       s."paid_on", s."imported_at", s."telemetry_wh", s."billed_rials", s."status", s."reconciled_at", s."detail",
       c."id" AS "correction_id"
FROM "utility_settlements" s
LEFT JOIN LATERAL (
  SELECT x."id", x."metered_wh", x."amount_rials", x."reference" FROM "settlement_corrections" x
   WHERE x."settlement_id" = s."id" ORDER BY x."id" DESC LIMIT 1
) c ON true;
