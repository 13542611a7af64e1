-- One form for every audit row, as lib/audit.ts writes it: the action is entity.verb and the actor
-- names its kind (staff:, beneficiary:, cli:, service:). Rows written before are mapped once here,
-- by the owner, with the append-only trigger off for these statements only (the same mapping as
-- actorFrom in lib/audit.ts).
ALTER TABLE "audit_log" DISABLE TRIGGER "audit_log_append_only";

UPDATE "audit_log" SET "action" = "entity" || '.' || regexp_replace("action", '^' || "entity" || '_', '')
  WHERE position('.' IN "action") = 0;

UPDATE "audit_log" SET "actor" = 'staff:' || substr("actor", 6) WHERE "actor" LIKE 'user:%';

UPDATE "audit_log" SET "actor" = 'service:' || "actor" WHERE "actor" !~ '^(staff|beneficiary|cli|service):';

ALTER TABLE "audit_log" ENABLE TRIGGER "audit_log_append_only";
