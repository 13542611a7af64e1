-- CreateTable
CREATE TABLE "settlement_policy" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "late_after_days" INTEGER NOT NULL,
    "recorded_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlement_policy_pkey" PRIMARY KEY ("id")
);

-- Hand-written: one row, SETTLEMENT_LATE_AFTER_DAYS's default until an API records what it counts with.
ALTER TABLE "settlement_policy" ADD CONSTRAINT "settlement_policy_one_row" CHECK ("id");
INSERT INTO "settlement_policy" ("id", "late_after_days") VALUES (true, 45);
