-- CreateEnum
CREATE TYPE "CounterReviewDecision" AS ENUM ('ACCEPT', 'CORRECT', 'EXCLUDE');

-- AlterTable
ALTER TABLE "billing_months" ADD COLUMN     "implausible" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "installation_bills" ADD COLUMN     "implausible" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "inverter_replacements" (
    "id" SERIAL NOT NULL,
    "serial" VARCHAR(64) NOT NULL,
    "replaced_at" TIMESTAMP(3) NOT NULL,
    "initial_wh" BIGINT,
    "note" VARCHAR(500) NOT NULL,
    "recorded_by" VARCHAR(80) NOT NULL,
    "recorded_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inverter_replacements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "counter_reviews" (
    "month" CHAR(7) NOT NULL,
    "serial" VARCHAR(64) NOT NULL,
    "decision" "CounterReviewDecision" NOT NULL,
    "corrected_wh" BIGINT,
    "reason" VARCHAR(500) NOT NULL,
    "decided_by" VARCHAR(80) NOT NULL,
    "decided_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "counter_reviews_pkey" PRIMARY KEY ("month","serial")
);

-- CreateIndex
CREATE UNIQUE INDEX "inverter_replacements_serial_replaced_at_key" ON "inverter_replacements"("serial", "replaced_at");
-- Hand-written: a corrected figure exactly when the decision is CORRECT, and no negative counters.
ALTER TABLE "counter_reviews" ADD CONSTRAINT "counter_reviews_corrected_wh" CHECK ((decision = 'CORRECT') = (corrected_wh IS NOT NULL) AND (corrected_wh IS NULL OR corrected_wh >= 0));
ALTER TABLE "inverter_replacements" ADD CONSTRAINT "inverter_replacements_initial_wh" CHECK (initial_wh IS NULL OR initial_wh >= 0);
