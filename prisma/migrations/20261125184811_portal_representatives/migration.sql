-- CreateEnum
CREATE TYPE "relation" AS ENUM ('PARENT', 'CHILD', 'SPOUSE', 'SIBLING', 'LEGAL_GUARDIAN', 'CARER', 'OTHER');

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "acting_for_id" INTEGER,
ADD COLUMN     "representative_id" INTEGER;

-- CreateTable
CREATE TABLE "representatives" (
    "id" SERIAL NOT NULL,
    "national_code" CHAR(10) NOT NULL,
    "full_name" VARCHAR(200) NOT NULL,
    "mobile" CHAR(11),
    "pin_hash" VARCHAR(200),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "representatives_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "representations" (
    "representative_id" INTEGER NOT NULL,
    "beneficiary_id" INTEGER NOT NULL,
    "relation" "relation" NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "representations_pkey" PRIMARY KEY ("representative_id","beneficiary_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "representatives_national_code_key" ON "representatives"("national_code");

-- CreateIndex
CREATE INDEX "representations_beneficiary_id_idx" ON "representations"("beneficiary_id");

-- CreateIndex
CREATE INDEX "sessions_representative_id_idx" ON "sessions"("representative_id");

-- CreateIndex
CREATE INDEX "statement_lines_month_installation_id_idx" ON "statement_lines"("month", "installation_id");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_representative_id_fkey" FOREIGN KEY ("representative_id") REFERENCES "representatives"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "representations" ADD CONSTRAINT "representations_representative_id_fkey" FOREIGN KEY ("representative_id") REFERENCES "representatives"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "representations" ADD CONSTRAINT "representations_beneficiary_id_fkey" FOREIGN KEY ("beneficiary_id") REFERENCES "beneficiaries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
