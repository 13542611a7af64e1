-- AlterTable
ALTER TABLE "billing_months" ADD COLUMN     "to_date_at" TIMESTAMP(3);

-- A month billed to date (still running) is a draft: it cannot be closed or paid until it is billed whole.
ALTER TABLE "billing_months" ADD CONSTRAINT "billing_months_to_date_is_draft" CHECK ("status" = 'DRAFT' OR "to_date_at" IS NULL);
