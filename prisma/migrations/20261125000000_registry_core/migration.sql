-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "installation_status" AS ENUM ('PLANNED', 'COMMISSIONED', 'SUSPENDED', 'DECOMMISSIONED');

-- CreateEnum
CREATE TYPE "inverter_status" AS ENUM ('ACTIVE', 'DECOMMISSIONED');

-- CreateTable
CREATE TABLE "provinces" (
    "id" SERIAL NOT NULL,
    "code" VARCHAR(40) NOT NULL,
    "name_en" VARCHAR(80) NOT NULL,
    "name_fa" VARCHAR(80) NOT NULL,
    "capital_en" VARCHAR(80) NOT NULL,
    "latitude" DECIMAL(8,5) NOT NULL,
    "longitude" DECIMAL(8,5) NOT NULL,

    CONSTRAINT "provinces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "installations" (
    "id" SERIAL NOT NULL,
    "code" VARCHAR(40) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "province_id" INTEGER NOT NULL,
    "latitude" DECIMAL(8,5) NOT NULL,
    "longitude" DECIMAL(8,5) NOT NULL,
    "dc_capacity_kwp" DECIMAL(12,3) NOT NULL,
    "ac_rating_kw" DECIMAL(12,3) NOT NULL,
    "commissioned_on" DATE,
    "status" "installation_status" NOT NULL DEFAULT 'PLANNED',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "installations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inverters" (
    "id" SERIAL NOT NULL,
    "serial" VARCHAR(64) NOT NULL,
    "installation_id" INTEGER NOT NULL,
    "rated_ac_w" INTEGER NOT NULL,
    "model" VARCHAR(120) NOT NULL,
    "status" "inverter_status" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "inverters_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "provinces_code_key" ON "provinces"("code");

-- CreateIndex
CREATE UNIQUE INDEX "provinces_name_en_key" ON "provinces"("name_en");

-- CreateIndex
CREATE UNIQUE INDEX "installations_code_key" ON "installations"("code");

-- CreateIndex
CREATE INDEX "installations_province_id_idx" ON "installations"("province_id");

-- CreateIndex
CREATE UNIQUE INDEX "inverters_serial_key" ON "inverters"("serial");

-- CreateIndex
CREATE INDEX "inverters_installation_id_idx" ON "inverters"("installation_id");

-- AddForeignKey
ALTER TABLE "installations" ADD CONSTRAINT "installations_province_id_fkey" FOREIGN KEY ("province_id") REFERENCES "provinces"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inverters" ADD CONSTRAINT "inverters_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Registry change notifications (hand-written): ingest caches serial -> installation/province
-- and reloads when it hears this, instead of polling.
-- Prisma's driver-adapter migrator splits scripts at every semicolon (even in comments), so the body's
-- semicolons are written as the octal escape \073 inside an E'' string.
CREATE FUNCTION "notify_registry_changed"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN PERFORM pg_notify(\'registry_changed\', TG_TABLE_NAME)\073 RETURN NULL\073 END'
;

CREATE TRIGGER "provinces_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "provinces"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_registry_changed"();
CREATE TRIGGER "installations_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "installations"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_registry_changed"();
CREATE TRIGGER "inverters_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "inverters"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_registry_changed"();
