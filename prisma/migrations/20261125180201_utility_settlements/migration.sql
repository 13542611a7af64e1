-- CreateEnum
CREATE TYPE "reconciliation_status" AS ENUM ('WITHIN_TOLERANCE', 'METER_BELOW_TELEMETRY', 'METER_ABOVE_TELEMETRY', 'AMOUNT_BELOW_BILLED', 'AMOUNT_ABOVE_BILLED', 'TELEMETRY_MISSING');

-- AlterTable
ALTER TABLE "installations" ADD COLUMN     "export_meter" VARCHAR(40);

-- CreateTable
CREATE TABLE "utility_settlements" (
    "id" SERIAL NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "period_from" DATE NOT NULL,
    "period_until" DATE NOT NULL,
    "metered_wh" BIGINT NOT NULL,
    "amount_rials" BIGINT NOT NULL,
    "reference" VARCHAR(60) NOT NULL,
    "paid_on" DATE,
    "imported_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "telemetry_wh" BIGINT,
    "billed_rials" BIGINT,
    "status" "reconciliation_status",
    "reconciled_at" TIMESTAMP(3),
    "detail" JSONB,

    CONSTRAINT "utility_settlements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settlement_adjustments" (
    "month" CHAR(7) NOT NULL,
    "settlement_id" INTEGER NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "rials" BIGINT NOT NULL,
    "reason" VARCHAR(40) NOT NULL,

    CONSTRAINT "settlement_adjustments_pkey" PRIMARY KEY ("month","settlement_id")
);

-- CreateIndex
CREATE INDEX "utility_settlements_period_until_idx" ON "utility_settlements"("period_until");

-- CreateIndex
CREATE UNIQUE INDEX "utility_settlements_installation_id_period_from_key" ON "utility_settlements"("installation_id", "period_from");

-- CreateIndex
CREATE INDEX "settlement_adjustments_settlement_id_idx" ON "settlement_adjustments"("settlement_id");

-- CreateIndex
CREATE UNIQUE INDEX "installations_export_meter_key" ON "installations"("export_meter");

-- AddForeignKey
ALTER TABLE "utility_settlements" ADD CONSTRAINT "utility_settlements_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "settlement_adjustments" ADD CONSTRAINT "settlement_adjustments_settlement_id_fkey" FOREIGN KEY ("settlement_id") REFERENCES "utility_settlements"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: the figures a settlement carries cannot be nonsense, and its recorded payment cannot
-- be taken back (money that arrived stays arrived, a correction is a new settlement row).
ALTER TABLE "utility_settlements" ADD CONSTRAINT "utility_settlements_period" CHECK ("period_until" > "period_from");
ALTER TABLE "utility_settlements" ADD CONSTRAINT "utility_settlements_not_negative" CHECK ("metered_wh" >= 0 AND "amount_rials" >= 0);
CREATE FUNCTION "settlement_payment_kept"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF OLD.paid_on IS NOT NULL AND NEW.paid_on IS DISTINCT FROM OLD.paid_on THEN RAISE EXCEPTION \'the payment of settlement % was recorded on %: it cannot be changed\', OLD.reference, OLD.paid_on USING ERRCODE = \'P0001\'\073 END IF\073 RETURN NEW\073 END'
;
CREATE TRIGGER "utility_settlements_payment_kept" BEFORE UPDATE ON "utility_settlements" FOR EACH ROW EXECUTE FUNCTION "settlement_payment_kept"();

-- Settlement adjustments belong to a billing month and freeze with it, like every ledger row.
ALTER TABLE "settlement_adjustments" ADD CONSTRAINT "settlement_adjustments_month_fkey" FOREIGN KEY ("month") REFERENCES "billing_months"("month") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE TRIGGER "settlement_adjustments_frozen_insert" AFTER INSERT ON "settlement_adjustments" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "settlement_adjustments_frozen_update" AFTER UPDATE ON "settlement_adjustments" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "settlement_adjustments_frozen_delete" AFTER DELETE ON "settlement_adjustments" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "settlement_adjustments_no_truncate" BEFORE TRUNCATE ON "settlement_adjustments" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
