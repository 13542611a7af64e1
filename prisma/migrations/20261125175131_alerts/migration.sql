-- CreateEnum
CREATE TYPE "alert_rule" AS ENUM ('OFFLINE', 'AREA_OUTAGE', 'FAULT', 'UNDERPERFORMING', 'METER_SHORTFALL');

-- CreateEnum
CREATE TYPE "alert_severity" AS ENUM ('MAJOR', 'MINOR', 'WARNING');

-- CreateEnum
CREATE TYPE "alert_state" AS ENUM ('OPEN', 'ACKNOWLEDGED', 'CLEARED', 'RESOLVED');

-- CreateEnum
CREATE TYPE "notification_channel" AS ENUM ('EMAIL', 'WEBHOOK');

-- CreateEnum
CREATE TYPE "notification_status" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- AlterTable
ALTER TABLE "installations" ADD COLUMN     "tilt_deg" DECIMAL(4,1);

-- CreateTable
CREATE TABLE "alerts" (
    "id" BIGSERIAL NOT NULL,
    "key" VARCHAR(200) NOT NULL,
    "rule" "alert_rule" NOT NULL,
    "cause" VARCHAR(40) NOT NULL,
    "severity" "alert_severity" NOT NULL,
    "state" "alert_state" NOT NULL DEFAULT 'OPEN',
    "installation_id" INTEGER,
    "inverter_id" INTEGER,
    "province_id" INTEGER NOT NULL,
    "area" VARCHAR(80),
    "affected_installations" INTEGER NOT NULL DEFAULT 1,
    "summary" VARCHAR(300) NOT NULL,
    "lost_kwh_per_day" DECIMAL(12,3) NOT NULL,
    "lost_rials_per_day" BIGINT NOT NULL,
    "rial_per_kwh" INTEGER,
    "detail" JSONB NOT NULL,
    "opened_at" TIMESTAMP(3) NOT NULL,
    "last_seen_at" TIMESTAMP(3) NOT NULL,
    "acknowledged_at" TIMESTAMP(3),
    "acknowledged_by" VARCHAR(80),
    "assigned_to" VARCHAR(80),
    "muted_until" TIMESTAMP(3),
    "reminders_sent" INTEGER NOT NULL DEFAULT 0,
    "next_reminder_at" TIMESTAMP(3),
    "closed_at" TIMESTAMP(3),
    "closed_by" VARCHAR(80),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_events" (
    "id" BIGSERIAL NOT NULL,
    "alert_id" BIGINT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" VARCHAR(80) NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "note" VARCHAR(2000),
    "detail" JSONB,

    CONSTRAINT "alert_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_notifications" (
    "id" BIGSERIAL NOT NULL,
    "alert_id" BIGINT NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "sequence" INTEGER NOT NULL,
    "channel" "notification_channel" NOT NULL,
    "recipient" VARCHAR(300) NOT NULL,
    "status" "notification_status" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL,
    "last_error" VARCHAR(1000),
    "sent_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_notifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_delivery_attempts" (
    "id" BIGSERIAL NOT NULL,
    "notification_id" BIGINT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "error" VARCHAR(1000),

    CONSTRAINT "alert_delivery_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "alerts_state_lost_rials_per_day_idx" ON "alerts"("state", "lost_rials_per_day");

-- CreateIndex
CREATE INDEX "alerts_installation_id_opened_at_idx" ON "alerts"("installation_id", "opened_at");

-- CreateIndex
CREATE INDEX "alerts_province_id_state_idx" ON "alerts"("province_id", "state");

-- CreateIndex
CREATE INDEX "alert_events_alert_id_at_idx" ON "alert_events"("alert_id", "at");

-- CreateIndex
CREATE INDEX "alert_notifications_status_next_attempt_at_idx" ON "alert_notifications"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "alert_notifications_alert_id_kind_sequence_channel_recipien_key" ON "alert_notifications"("alert_id", "kind", "sequence", "channel", "recipient");

-- CreateIndex
CREATE INDEX "alert_delivery_attempts_notification_id_idx" ON "alert_delivery_attempts"("notification_id");

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_installation_id_fkey" FOREIGN KEY ("installation_id") REFERENCES "installations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_inverter_id_fkey" FOREIGN KEY ("inverter_id") REFERENCES "inverters"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_province_id_fkey" FOREIGN KEY ("province_id") REFERENCES "provinces"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_notifications" ADD CONSTRAINT "alert_notifications_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_delivery_attempts" ADD CONSTRAINT "alert_delivery_attempts_notification_id_fkey" FOREIGN KEY ("notification_id") REFERENCES "alert_notifications"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: at most one active alert per condition (the evaluator and raiseAlert rely on it).
CREATE UNIQUE INDEX "alerts_active_key" ON "alerts"("key") WHERE "state" IN ('OPEN', 'ACKNOWLEDGED');
CREATE INDEX "alerts_key_opened_at_idx" ON "alerts"("key", "opened_at");
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_loss_not_negative" CHECK ("lost_kwh_per_day" >= 0 AND "lost_rials_per_day" >= 0);
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_closed_consistent" CHECK (("state" IN ('CLEARED', 'RESOLVED')) = ("closed_at" IS NOT NULL));

-- Hand-written: active alerts ranked by income at risk, with the names people read (for Grafana).
CREATE VIEW "active_alerts" AS
SELECT row_number() OVER (ORDER BY a."lost_rials_per_day" DESC, a."opened_at") AS "rank",
       a."id", a."rule", a."cause", a."severity", a."state", a."summary",
       a."lost_kwh_per_day", a."lost_rials_per_day", a."rial_per_kwh",
       a."installation_id", i."code" AS "installation_code", i."name" AS "installation_name",
       v."serial" AS "inverter_serial",
       a."province_id", p."code" AS "province_code", p."name_en" AS "province_name_en", p."name_fa" AS "province_name_fa",
       a."area", a."affected_installations",
       a."opened_at", a."last_seen_at", a."acknowledged_at", a."acknowledged_by", a."assigned_to", a."muted_until"
FROM "alerts" a
JOIN "provinces" p ON p."id" = a."province_id"
LEFT JOIN "installations" i ON i."id" = a."installation_id"
LEFT JOIN "inverters" v ON v."id" = a."inverter_id"
WHERE a."state" IN ('OPEN', 'ACKNOWLEDGED');
