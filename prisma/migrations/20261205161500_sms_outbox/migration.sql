-- CreateEnum
CREATE TYPE "sms_kind" AS ENUM ('STATEMENT_READY', 'PAID');

-- CreateEnum
CREATE TYPE "sms_status" AS ENUM ('QUEUED', 'SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'CANCELLED');

-- AlterTable
ALTER TABLE "beneficiaries" ADD COLUMN     "sms_opt_out_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "sms_messages" (
    "id" BIGSERIAL NOT NULL,
    "beneficiary_id" INTEGER NOT NULL,
    "month" CHAR(7) NOT NULL,
    "kind" "sms_kind" NOT NULL,
    "mobile" CHAR(11) NOT NULL,
    "text" VARCHAR(160) NOT NULL,
    "status" "sms_status" NOT NULL DEFAULT 'QUEUED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "provider_message_id" VARCHAR(40),
    "provider_pack_id" VARCHAR(60),
    "last_error" VARCHAR(500),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMP(3),
    "reported_at" TIMESTAMP(3),

    CONSTRAINT "sms_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sms_messages_status_next_attempt_at_idx" ON "sms_messages"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "sms_messages_beneficiary_id_month_kind_key" ON "sms_messages"("beneficiary_id", "month", "kind");

-- AddForeignKey
ALTER TABLE "sms_messages" ADD CONSTRAINT "sms_messages_beneficiary_id_fkey" FOREIGN KEY ("beneficiary_id") REFERENCES "beneficiaries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
