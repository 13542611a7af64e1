-- CreateTable
CREATE TABLE "settlement_corrections" (
    "id" SERIAL NOT NULL,
    "settlement_id" INTEGER NOT NULL,
    "reversed_metered_wh" BIGINT NOT NULL,
    "reversed_amount_rials" BIGINT NOT NULL,
    "metered_wh" BIGINT NOT NULL,
    "amount_rials" BIGINT NOT NULL,
    "reference" VARCHAR(60) NOT NULL,
    "corrected_on" DATE NOT NULL,
    "reason" VARCHAR(300) NOT NULL,
    "actor" VARCHAR(80) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlement_corrections_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "settlement_corrections_settlement_id_idx" ON "settlement_corrections"("settlement_id");

-- AddForeignKey
ALTER TABLE "settlement_corrections" ADD CONSTRAINT "settlement_corrections_settlement_id_fkey" FOREIGN KEY ("settlement_id") REFERENCES "utility_settlements"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: a settlement whose payment was recorded is money on record. No field of it changes
-- and it is not deleted, by any path (the import refuses too). A correction is a new row below.
-- The reconciliation columns (telemetry, billed, status) stay the reconciliation's to recompute.
CREATE OR REPLACE FUNCTION "settlement_payment_kept"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF OLD.paid_on IS NOT NULL AND (TG_OP = \'DELETE\' OR (NEW.installation_id, NEW.period_from, NEW.period_until, NEW.metered_wh, NEW.amount_rials, NEW.reference, NEW.paid_on) IS DISTINCT FROM (OLD.installation_id, OLD.period_from, OLD.period_until, OLD.metered_wh, OLD.amount_rials, OLD.reference, OLD.paid_on)) THEN RAISE EXCEPTION \'the payment of settlement % was recorded on %: it cannot be changed or deleted, record a correction\', OLD.reference, OLD.paid_on USING ERRCODE = \'P0001\'\073 END IF\073 IF TG_OP = \'DELETE\' THEN RETURN OLD\073 END IF\073 RETURN NEW\073 END'
;
CREATE TRIGGER "utility_settlements_payment_kept_delete" BEFORE DELETE ON "utility_settlements" FOR EACH ROW EXECUTE FUNCTION "settlement_payment_kept"();

-- Corrections are append-only, and only of a settlement whose payment was recorded.
CREATE FUNCTION "settlement_correction_rules"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF TG_OP <> \'INSERT\' THEN RAISE EXCEPTION \'settlement corrections are append-only\' USING ERRCODE = \'P0001\'\073 END IF\073 IF NOT EXISTS (SELECT 1 FROM utility_settlements WHERE id = NEW.settlement_id AND paid_on IS NOT NULL) THEN RAISE EXCEPTION \'settlement % has no recorded payment: import its new figures instead of correcting it\', NEW.settlement_id USING ERRCODE = \'P0001\'\073 END IF\073 RETURN NEW\073 END'
;
CREATE TRIGGER "settlement_corrections_rules" BEFORE INSERT OR UPDATE OR DELETE ON "settlement_corrections" FOR EACH ROW EXECUTE FUNCTION "settlement_correction_rules"();
CREATE TRIGGER "settlement_corrections_no_truncate" BEFORE TRUNCATE ON "settlement_corrections" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
ALTER TABLE "settlement_corrections" ADD CONSTRAINT "settlement_corrections_not_negative" CHECK ("metered_wh" >= 0 AND "amount_rials" >= 0);
