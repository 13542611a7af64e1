-- Hand-written: settlement periods of one installation never overlap (a period is settled once),
-- held by the database as well as by the import, so two imports in parallel cannot both pass.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE "utility_settlements" ADD CONSTRAINT "utility_settlements_no_overlap" EXCLUDE USING gist (
  "installation_id" WITH =, daterange("period_from", "period_until", '[)') WITH &&
);
