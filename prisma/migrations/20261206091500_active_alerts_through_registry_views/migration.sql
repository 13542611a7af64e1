-- Hand-written: active_alerts (alerts' view, read by the dashboards) labels each alert with its
-- installation, inverter and province through the registry's published views instead of the
-- registry's tables (docs/architecture.md, "Who owns which table"). Same columns, same rows.
-- The registry publishes an installation's name too, and two small views of its own.

-- Appended, as CREATE OR REPLACE VIEW allows: the name people read beside the code.
CREATE OR REPLACE VIEW "installation_summaries" AS
SELECT i."id", i."code", i."province_id", p."code" AS "province_code", i."dc_capacity_kwp", i."name"
FROM "installations" i
JOIN "provinces" p ON p."id" = i."province_id";

-- Each inverter's serial and installation, for a query that labels rows by inverter.
CREATE VIEW "inverter_serials" AS
SELECT v."id", v."installation_id", v."serial"
FROM "inverters" v;

-- Each province's code and names, for a query that labels or groups rows by province.
CREATE VIEW "province_names" AS
SELECT p."id", p."code", p."name_en", p."name_fa"
FROM "provinces" p;

CREATE OR REPLACE VIEW "active_alerts" AS
SELECT row_number() OVER (ORDER BY a."lost_rials_per_day" DESC, a."opened_at") AS "rank",
       a."id", a."rule", a."cause", a."severity", a."state", a."summary",
       a."lost_kwh_per_day", a."lost_rials_per_day", a."rial_per_kwh",
       a."installation_id", i."code" AS "installation_code", i."name" AS "installation_name",
       v."serial" AS "inverter_serial",
       a."province_id", p."code" AS "province_code", p."name_en" AS "province_name_en", p."name_fa" AS "province_name_fa",
       a."area", a."affected_installations",
       a."opened_at", a."last_seen_at", a."acknowledged_at", a."acknowledged_by", a."assigned_to", a."muted_until"
FROM "alerts" a
JOIN "province_names" p ON p."id" = a."province_id"
LEFT JOIN "installation_summaries" i ON i."id" = a."installation_id"
LEFT JOIN "inverter_serials" v ON v."id" = a."inverter_id"
WHERE a."state" IN ('OPEN', 'ACKNOWLEDGED');
