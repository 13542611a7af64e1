-- CreateEnum
CREATE TYPE "billing_month_status" AS ENUM ('DRAFT', 'CLOSED', 'PAID');

-- CreateEnum
CREATE TYPE "payout_status" AS ENUM ('CREATED', 'PAID');

-- CreateTable
CREATE TABLE "billing_months" (
    "month" CHAR(7) NOT NULL,
    "status" "billing_month_status" NOT NULL DEFAULT 'DRAFT',
    "computed_at" TIMESTAMP(3) NOT NULL,
    "digest" CHAR(64) NOT NULL,
    "installations" INTEGER NOT NULL,
    "beneficiaries" INTEGER NOT NULL,
    "energy_wh" BIGINT NOT NULL,
    "gross_rials" BIGINT NOT NULL,
    "net_rials" BIGINT NOT NULL,
    "pool_rials" BIGINT NOT NULL,
    "payable_rials" BIGINT NOT NULL,
    "incomplete" INTEGER NOT NULL,
    "closed_at" TIMESTAMP(3),
    "closed_by" VARCHAR(80),

    CONSTRAINT "billing_months_pkey" PRIMARY KEY ("month")
);

-- CreateTable
CREATE TABLE "installation_bills" (
    "month" CHAR(7) NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "energy_wh" BIGINT NOT NULL,
    "gross_rials" BIGINT NOT NULL,
    "adjustment_rials" BIGINT NOT NULL,
    "income_rials" BIGINT NOT NULL,
    "loan_rials" BIGINT NOT NULL,
    "fee_rials" BIGINT NOT NULL,
    "net_rials" BIGINT NOT NULL,
    "pool_rials" BIGINT NOT NULL,
    "balance_out_rials" BIGINT NOT NULL,
    "incomplete" BOOLEAN NOT NULL,
    "detail" JSONB NOT NULL,

    CONSTRAINT "installation_bills_pkey" PRIMARY KEY ("month","installation_id")
);

-- CreateTable
CREATE TABLE "energy_adjustments" (
    "month" CHAR(7) NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "for_month" CHAR(7) NOT NULL,
    "energy_wh" BIGINT NOT NULL,
    "rials" BIGINT NOT NULL,

    CONSTRAINT "energy_adjustments_pkey" PRIMARY KEY ("month","installation_id","for_month")
);

-- CreateTable
CREATE TABLE "loan_deductions" (
    "month" CHAR(7) NOT NULL,
    "loan_id" INTEGER NOT NULL,
    "owed_rials" BIGINT NOT NULL,
    "deducted_rials" BIGINT NOT NULL,

    CONSTRAINT "loan_deductions_pkey" PRIMARY KEY ("month","loan_id")
);

-- CreateTable
CREATE TABLE "statements" (
    "month" CHAR(7) NOT NULL,
    "beneficiary_id" INTEGER NOT NULL,
    "earned_rials" BIGINT NOT NULL,
    "carried_in_rials" BIGINT NOT NULL,
    "payable_rials" BIGINT NOT NULL,
    "carried_out_rials" BIGINT NOT NULL,

    CONSTRAINT "statements_pkey" PRIMARY KEY ("month","beneficiary_id")
);

-- CreateTable
CREATE TABLE "statement_lines" (
    "month" CHAR(7) NOT NULL,
    "beneficiary_id" INTEGER NOT NULL,
    "share_id" INTEGER NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "weight_w" INTEGER NOT NULL,
    "active_days" INTEGER NOT NULL,
    "rials" BIGINT NOT NULL,

    CONSTRAINT "statement_lines_pkey" PRIMARY KEY ("month","share_id")
);

-- CreateTable
CREATE TABLE "payout_batches" (
    "month" CHAR(7) NOT NULL,
    "reference" VARCHAR(40) NOT NULL,
    "status" "payout_status" NOT NULL DEFAULT 'CREATED',
    "rows" INTEGER NOT NULL,
    "total_rials" BIGINT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" VARCHAR(80) NOT NULL,
    "paid_at" TIMESTAMP(3),
    "paid_by" VARCHAR(80),

    CONSTRAINT "payout_batches_pkey" PRIMARY KEY ("month")
);

-- CreateIndex
CREATE INDEX "installation_bills_installation_id_idx" ON "installation_bills"("installation_id");

-- CreateIndex
CREATE INDEX "energy_adjustments_installation_id_for_month_idx" ON "energy_adjustments"("installation_id", "for_month");

-- CreateIndex
CREATE INDEX "loan_deductions_loan_id_idx" ON "loan_deductions"("loan_id");

-- CreateIndex
CREATE INDEX "statements_beneficiary_id_idx" ON "statements"("beneficiary_id");

-- CreateIndex
CREATE INDEX "statement_lines_beneficiary_id_month_idx" ON "statement_lines"("beneficiary_id", "month");

-- CreateIndex
CREATE UNIQUE INDEX "payout_batches_reference_key" ON "payout_batches"("reference");

-- AddForeignKey
ALTER TABLE "installation_bills" ADD CONSTRAINT "installation_bills_month_fkey" FOREIGN KEY ("month") REFERENCES "billing_months"("month") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "installation_bills" ADD CONSTRAINT "installation_bills_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "statements" ADD CONSTRAINT "statements_month_fkey" FOREIGN KEY ("month") REFERENCES "billing_months"("month") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "statements" ADD CONSTRAINT "statements_beneficiary_id_fkey" FOREIGN KEY ("beneficiary_id") REFERENCES "beneficiaries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "statement_lines" ADD CONSTRAINT "statement_lines_month_beneficiary_id_fkey" FOREIGN KEY ("month", "beneficiary_id") REFERENCES "statements"("month", "beneficiary_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "statement_lines" ADD CONSTRAINT "statement_lines_share_id_fkey" FOREIGN KEY ("share_id") REFERENCES "shares"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payout_batches" ADD CONSTRAINT "payout_batches_month_fkey" FOREIGN KEY ("month") REFERENCES "billing_months"("month") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A closed month is immutable (invariant 4): nothing billed in it may be added, changed or removed.
-- Checked once per statement over its transition tables (a draft run writes ~50,000 rows at once).
-- (Function bodies spell semicolons as \073: the migrator splits statements at every semicolon.)
CREATE FUNCTION "billing_month_frozen"() RETURNS trigger LANGUAGE plpgsql AS
  E'DECLARE m text\073 BEGIN IF TG_OP = \'INSERT\' THEN SELECT b.month INTO m FROM new_rows n JOIN billing_months b ON b.month = n.month WHERE b.status <> \'DRAFT\' LIMIT 1\073 ELSIF TG_OP = \'DELETE\' THEN SELECT b.month INTO m FROM old_rows o JOIN billing_months b ON b.month = o.month WHERE b.status <> \'DRAFT\' LIMIT 1\073 ELSE SELECT b.month INTO m FROM (SELECT month FROM old_rows UNION SELECT month FROM new_rows) x JOIN billing_months b ON b.month = x.month WHERE b.status <> \'DRAFT\' LIMIT 1\073 END IF\073 IF m IS NOT NULL THEN RAISE EXCEPTION \'billing month % is closed: it can no longer change (corrections are adjustments in an open month)\', m USING ERRCODE = \'P0001\'\073 END IF\073 RETURN NULL\073 END'
;
CREATE TRIGGER "installation_bills_frozen_insert" AFTER INSERT ON "installation_bills" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "installation_bills_frozen_update" AFTER UPDATE ON "installation_bills" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "installation_bills_frozen_delete" AFTER DELETE ON "installation_bills" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "energy_adjustments_frozen_insert" AFTER INSERT ON "energy_adjustments" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "energy_adjustments_frozen_update" AFTER UPDATE ON "energy_adjustments" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "energy_adjustments_frozen_delete" AFTER DELETE ON "energy_adjustments" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "loan_deductions_frozen_insert" AFTER INSERT ON "loan_deductions" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "loan_deductions_frozen_update" AFTER UPDATE ON "loan_deductions" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "loan_deductions_frozen_delete" AFTER DELETE ON "loan_deductions" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "statements_frozen_insert" AFTER INSERT ON "statements" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "statements_frozen_update" AFTER UPDATE ON "statements" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "statements_frozen_delete" AFTER DELETE ON "statements" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "statement_lines_frozen_insert" AFTER INSERT ON "statement_lines" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "statement_lines_frozen_update" AFTER UPDATE ON "statement_lines" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();
CREATE TRIGGER "statement_lines_frozen_delete" AFTER DELETE ON "statement_lines" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "billing_month_frozen"();

-- A month only moves forward: DRAFT -> CLOSED -> PAID, and once closed its figures never change.
CREATE FUNCTION "billing_month_lifecycle"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF OLD.status = \'DRAFT\' THEN IF TG_OP = \'DELETE\' THEN RETURN OLD\073 END IF\073 RETURN NEW\073 END IF\073 IF TG_OP = \'UPDATE\' AND OLD.status = \'CLOSED\' AND NEW.status = \'PAID\' AND (NEW.month, NEW.digest, NEW.computed_at, NEW.energy_wh, NEW.gross_rials, NEW.net_rials, NEW.pool_rials, NEW.payable_rials, NEW.closed_at) IS NOT DISTINCT FROM (OLD.month, OLD.digest, OLD.computed_at, OLD.energy_wh, OLD.gross_rials, OLD.net_rials, OLD.pool_rials, OLD.payable_rials, OLD.closed_at) THEN RETURN NEW\073 END IF\073 RAISE EXCEPTION \'billing month % is %: it can no longer change\', OLD.month, lower(OLD.status::text) USING ERRCODE = \'P0001\'\073 END'
;
CREATE TRIGGER "billing_months_lifecycle" BEFORE UPDATE OR DELETE ON "billing_months" FOR EACH ROW EXECUTE FUNCTION "billing_month_lifecycle"();

-- A payout batch is created once per closed month and may only be marked paid.
CREATE FUNCTION "payout_batch_lifecycle"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN IF TG_OP = \'UPDATE\' AND OLD.status = \'CREATED\' AND NEW.status = \'PAID\' AND (NEW.month, NEW.reference, NEW.rows, NEW.total_rials, NEW.sha256) IS NOT DISTINCT FROM (OLD.month, OLD.reference, OLD.rows, OLD.total_rials, OLD.sha256) THEN RETURN NEW\073 END IF\073 RAISE EXCEPTION \'payout batch % is %: it can no longer change\', OLD.reference, lower(OLD.status::text) USING ERRCODE = \'P0001\'\073 END'
;
CREATE TRIGGER "payout_batches_lifecycle" BEFORE UPDATE OR DELETE ON "payout_batches" FOR EACH ROW EXECUTE FUNCTION "payout_batch_lifecycle"();

ALTER TABLE "billing_months" ADD CONSTRAINT "billing_months_month_format" CHECK ("month" ~ '^1[34][0-9]{2}-(0[1-9]|1[0-2])$');
ALTER TABLE "statements" ADD CONSTRAINT "statements_payable_not_negative" CHECK ("payable_rials" >= 0);
ALTER TABLE "statement_lines" ADD CONSTRAINT "statement_lines_not_negative" CHECK ("rials" >= 0);

-- TRUNCATE skips row triggers: refuse it outright on the ledger.
CREATE FUNCTION "billing_ledger_no_truncate"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION \'the billing ledger cannot be truncated\'\073 END'
;
CREATE TRIGGER "billing_months_no_truncate" BEFORE TRUNCATE ON "billing_months" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
CREATE TRIGGER "installation_bills_no_truncate" BEFORE TRUNCATE ON "installation_bills" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
CREATE TRIGGER "energy_adjustments_no_truncate" BEFORE TRUNCATE ON "energy_adjustments" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
CREATE TRIGGER "loan_deductions_no_truncate" BEFORE TRUNCATE ON "loan_deductions" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
CREATE TRIGGER "statements_no_truncate" BEFORE TRUNCATE ON "statements" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
CREATE TRIGGER "statement_lines_no_truncate" BEFORE TRUNCATE ON "statement_lines" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
CREATE TRIGGER "payout_batches_no_truncate" BEFORE TRUNCATE ON "payout_batches" FOR EACH STATEMENT EXECUTE FUNCTION "billing_ledger_no_truncate"();
