-- Sessions bound to where they are used, and sessions that last on a person's own phone
-- (docs/decisions/006-sessions-on-a-persons-own-phone.md). A session made before this is a bearer
-- token's (portal false): a portal cookie of that time asks its person to sign in once more.
ALTER TABLE "sessions" ADD COLUMN "portal" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "sliding_days" INTEGER,
ADD COLUMN "renew_until" TIMESTAMP(3);

-- Hand-written: only a portal session (a beneficiary's or a representative's, never staff) may slide.
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_sliding_portal_only" CHECK (
  ("sliding_days" IS NULL) = ("renew_until" IS NULL)
  AND ("sliding_days" IS NULL OR ("portal" AND "user_id" IS NULL AND "sliding_days" BETWEEN 1 AND 366))
);

-- Hand-written: a remembered session's end moving on as it is used (expires_at) ends or narrows
-- nothing, so it must not empty every API process's session cache (payday would). Every other
-- change to a session still notifies.
DROP TRIGGER "sessions_changed" ON "sessions";
CREATE TRIGGER "sessions_changed" AFTER UPDATE OF "user_id", "beneficiary_id", "representative_id", "acting_for_id", "portal", "renew_until" OR DELETE ON "sessions" FOR EACH STATEMENT EXECUTE FUNCTION "sessions_changed_notify"();
