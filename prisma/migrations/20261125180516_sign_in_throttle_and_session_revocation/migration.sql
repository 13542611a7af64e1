-- AlterTable
ALTER TABLE "beneficiaries" DROP COLUMN "failed_sign_ins",
DROP COLUMN "locked_until";

-- AlterTable
ALTER TABLE "users" DROP COLUMN "failed_sign_ins",
DROP COLUMN "locked_until",
ADD COLUMN     "disabled_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "sign_in_throttle" (
    "key" CHAR(64) NOT NULL,
    "failures" INTEGER NOT NULL,
    "locked_until" TIMESTAMP(3),
    "last_failure_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "sign_in_throttle_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "sign_in_throttle_last_failure_at_idx" ON "sign_in_throttle"("last_failure_at");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "sessions_beneficiary_id_idx" ON "sessions"("beneficiary_id");

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

-- CreateIndex
CREATE INDEX "idempotent_requests_created_at_idx" ON "idempotent_requests"("created_at");

-- Stored replies from before this migration may hold session tokens and device passwords: drop them
DELETE FROM "idempotent_requests";
