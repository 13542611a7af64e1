-- AlterTable
ALTER TABLE "payout_batches" ADD COLUMN     "withheld_beneficiaries" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "withheld_rials" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "payout_rows" (
    "month" CHAR(7) NOT NULL,
    "line" INTEGER NOT NULL,
    "beneficiary_id" INTEGER NOT NULL,
    "sheba" CHAR(26) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "amount_rials" BIGINT NOT NULL,
    "reference" VARCHAR(40) NOT NULL,

    CONSTRAINT "payout_rows_pkey" PRIMARY KEY ("month","line")
);

-- CreateIndex
CREATE INDEX "payout_rows_beneficiary_id_idx" ON "payout_rows"("beneficiary_id");

-- CreateIndex
CREATE UNIQUE INDEX "payout_rows_month_beneficiary_id_key" ON "payout_rows"("month", "beneficiary_id");

-- AddForeignKey
ALTER TABLE "payout_rows" ADD CONSTRAINT "payout_rows_month_fkey" FOREIGN KEY ("month") REFERENCES "payout_batches"("month") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payout_rows" ADD CONSTRAINT "payout_rows_beneficiary_id_fkey" FOREIGN KEY ("beneficiary_id") REFERENCES "beneficiaries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "payout_rows" ADD CONSTRAINT "payout_rows_amount_positive" CHECK ("amount_rials" > 0);

-- Batches created before rows were stored: freeze them from the statements and bank details of
-- now. Their recorded digest tells whether that is still the file that was handed out: a batch
-- whose bank details changed since then does not reconcile and is no longer served.
ALTER TABLE "payout_batches" DISABLE TRIGGER "payout_batches_lifecycle";
INSERT INTO "payout_rows" ("month", "line", "beneficiary_id", "sheba", "name", "amount_rials", "reference")
  SELECT s."month", row_number() OVER (PARTITION BY s."month" ORDER BY s."beneficiary_id"), s."beneficiary_id", b."sheba", b."full_name", s."payable_rials",
         'SOLAR-' || s."month" || '-' || lpad(s."beneficiary_id"::text, 7, '0')
    FROM "statements" s JOIN "beneficiaries" b ON b."id" = s."beneficiary_id" JOIN "payout_batches" p ON p."month" = s."month"
   WHERE s."payable_rials" > 0 AND b."sheba" IS NOT NULL;
UPDATE "payout_batches" p SET "withheld_beneficiaries" = w.n, "withheld_rials" = w.rials
  FROM (SELECT s."month", count(*)::int AS n, sum(s."payable_rials") AS rials FROM "statements" s JOIN "beneficiaries" b ON b."id" = s."beneficiary_id"
         WHERE s."payable_rials" > 0 AND b."sheba" IS NULL GROUP BY s."month") w
 WHERE w."month" = p."month";
ALTER TABLE "payout_batches" ENABLE TRIGGER "payout_batches_lifecycle";

-- A batch's figures, withheld ones included, never change, and it may only be marked paid.
CREATE OR REPLACE FUNCTION "payout_batch_lifecycle"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF TG_OP = \'UPDATE\' AND OLD.status = \'CREATED\' AND NEW.status = \'PAID\' AND (NEW.month, NEW.reference, NEW.rows, NEW.total_rials, NEW.sha256, NEW.withheld_beneficiaries, NEW.withheld_rials, NEW.created_at, NEW.created_by) IS NOT DISTINCT FROM (OLD.month, OLD.reference, OLD.rows, OLD.total_rials, OLD.sha256, OLD.withheld_beneficiaries, OLD.withheld_rials, OLD.created_at, OLD.created_by) THEN RETURN NEW\073 END IF\073 RAISE EXCEPTION \'payout batch % is %: it can no longer change\', OLD.reference, lower(OLD.status::text) USING ERRCODE = \'P0001\'\073 END'
;

-- A batch's rows are written once, in the transaction that creates the batch, and never change.
CREATE FUNCTION "payout_rows_frozen"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF TG_OP = \'INSERT\' AND EXISTS (SELECT 1 FROM payout_batches p WHERE p.month = NEW.month AND p.xmin = pg_current_xact_id()::xid) THEN RETURN NEW\073 END IF\073 RAISE EXCEPTION \'payout batch SOLAR-% is frozen: its rows were fixed when it was created\', COALESCE(NEW.month, OLD.month) USING ERRCODE = \'P0001\'\073 END'
;
CREATE TRIGGER "payout_rows_frozen" BEFORE INSERT OR UPDATE OR DELETE ON "payout_rows" FOR EACH ROW EXECUTE FUNCTION "payout_rows_frozen"();
CREATE TRIGGER "payout_rows_no_truncate" BEFORE TRUNCATE ON "payout_rows" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
