-- CreateEnum
CREATE TYPE "target_group" AS ENUM ('WOMAN_HEAD_OF_HOUSEHOLD', 'PERSON_WITH_DISABILITY', 'RECOVERED_FROM_ADDICTION', 'INDEPENDENT_YOUNG_ADULT', 'OTHER');

-- CreateEnum
CREATE TYPE "beneficiary_status" AS ENUM ('ACTIVE', 'SUSPENDED', 'EXITED');

-- CreateEnum
CREATE TYPE "contract_kind" AS ENUM ('ORDINARY', 'SUPPORT');

-- CreateEnum
CREATE TYPE "role" AS ENUM ('ADMIN', 'OPERATOR', 'TECHNICIAN');

-- CreateTable
CREATE TABLE "beneficiaries" (
    "id" SERIAL NOT NULL,
    "national_code" CHAR(10) NOT NULL,
    "full_name" VARCHAR(200) NOT NULL,
    "mobile" CHAR(11),
    "sheba" CHAR(26),
    "province_id" INTEGER NOT NULL,
    "target_group" "target_group" NOT NULL,
    "status" "beneficiary_status" NOT NULL DEFAULT 'ACTIVE',
    "pin_hash" VARCHAR(200),
    "failed_sign_ins" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "beneficiaries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shares" (
    "id" SERIAL NOT NULL,
    "beneficiary_id" INTEGER NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "weight_w" INTEGER NOT NULL,
    "valid_from" DATE NOT NULL,
    "valid_until" DATE,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "shares_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contracts" (
    "id" SERIAL NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "reference" VARCHAR(60) NOT NULL,
    "kind" "contract_kind" NOT NULL,
    "start_date" DATE NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contracts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tariff_periods" (
    "id" SERIAL NOT NULL,
    "contract_id" INTEGER NOT NULL,
    "effective_from" DATE NOT NULL,
    "effective_until" DATE,
    "rial_per_kwh" INTEGER NOT NULL,

    CONSTRAINT "tariff_periods_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "loans" (
    "id" SERIAL NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "reference" VARCHAR(60) NOT NULL,
    "principal_rials" BIGINT NOT NULL,
    "installment_rials" BIGINT NOT NULL,
    "installments" INTEGER NOT NULL,
    "first_due_month" CHAR(7) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "username" VARCHAR(60) NOT NULL,
    "password_hash" VARCHAR(200) NOT NULL,
    "role" "role" NOT NULL,
    "failed_sign_ins" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "token_hash" CHAR(64) NOT NULL,
    "user_id" INTEGER,
    "beneficiary_id" INTEGER,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("token_hash")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" VARCHAR(80) NOT NULL,
    "action" VARCHAR(40) NOT NULL,
    "entity" VARCHAR(40) NOT NULL,
    "entity_id" VARCHAR(60) NOT NULL,
    "before" JSONB,
    "after" JSONB,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotent_requests" (
    "key" VARCHAR(200) NOT NULL,
    "actor" VARCHAR(80) NOT NULL,
    "route" VARCHAR(200) NOT NULL,
    "status_code" INTEGER NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotent_requests_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "beneficiaries_national_code_key" ON "beneficiaries"("national_code");

-- CreateIndex
CREATE INDEX "beneficiaries_province_id_idx" ON "beneficiaries"("province_id");

-- CreateIndex
CREATE INDEX "shares_installation_id_valid_from_idx" ON "shares"("installation_id", "valid_from");

-- CreateIndex
CREATE INDEX "shares_beneficiary_id_idx" ON "shares"("beneficiary_id");

-- CreateIndex
CREATE UNIQUE INDEX "contracts_reference_key" ON "contracts"("reference");

-- CreateIndex
CREATE INDEX "contracts_installation_id_idx" ON "contracts"("installation_id");

-- CreateIndex
CREATE UNIQUE INDEX "tariff_periods_contract_id_effective_from_key" ON "tariff_periods"("contract_id", "effective_from");

-- CreateIndex
CREATE UNIQUE INDEX "loans_reference_key" ON "loans"("reference");

-- CreateIndex
CREATE INDEX "loans_installation_id_idx" ON "loans"("installation_id");

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE INDEX "audit_log_entity_entity_id_idx" ON "audit_log"("entity", "entity_id");

-- CreateIndex
CREATE INDEX "installations_status_idx" ON "installations"("status");

-- AddForeignKey
ALTER TABLE "beneficiaries" ADD CONSTRAINT "beneficiaries_province_id_fkey" FOREIGN KEY ("province_id") REFERENCES "provinces"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shares" ADD CONSTRAINT "shares_beneficiary_id_fkey" FOREIGN KEY ("beneficiary_id") REFERENCES "beneficiaries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shares" ADD CONSTRAINT "shares_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tariff_periods" ADD CONSTRAINT "tariff_periods_contract_id_fkey" FOREIGN KEY ("contract_id") REFERENCES "contracts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "loans" ADD CONSTRAINT "loans_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written rules the schema language cannot express (no semicolons inside bodies: the
-- migrator splits at every semicolon, so function bodies write them as \073).
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE "shares" ADD CONSTRAINT "shares_weight_positive" CHECK ("weight_w" > 0);
ALTER TABLE "shares" ADD CONSTRAINT "shares_period_valid" CHECK ("valid_until" IS NULL OR "valid_until" > "valid_from");
ALTER TABLE "shares" ADD CONSTRAINT "shares_no_overlap" EXCLUDE USING gist (
  "beneficiary_id" WITH =, "installation_id" WITH =, daterange("valid_from", "valid_until", '[)') WITH &&
);
ALTER TABLE "tariff_periods" ADD CONSTRAINT "tariff_periods_rate_positive" CHECK ("rial_per_kwh" > 0);
ALTER TABLE "tariff_periods" ADD CONSTRAINT "tariff_periods_no_overlap" EXCLUDE USING gist (
  "contract_id" WITH =, daterange("effective_from", "effective_until", '[)') WITH &&
);
ALTER TABLE "loans" ADD CONSTRAINT "loans_amounts_positive" CHECK ("principal_rials" > 0 AND "installment_rials" > 0 AND "installments" > 0);
ALTER TABLE "installations" ADD CONSTRAINT "installations_capacity_positive" CHECK ("dc_capacity_kwp" > 0 AND "ac_rating_kw" > 0);

CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION \'audit_log is append-only\'\073 END'
;
CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
