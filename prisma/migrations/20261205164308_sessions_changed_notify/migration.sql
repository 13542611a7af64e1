-- Hand-written: every API process caches resolved sessions for a few seconds. A change that can end
-- or narrow a session (a session deleted or changed, a user disabled, re-roled or given a new
-- password, a beneficiary's status, a guardianship removed) notifies 'sessions_changed', and every
-- process evicts its cache at once (api/src/plugins/auth.ts).
CREATE FUNCTION "sessions_changed_notify"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN PERFORM pg_notify(\'sessions_changed\', TG_TABLE_NAME)\073 RETURN NULL\073 END'
;
CREATE TRIGGER "sessions_changed" AFTER UPDATE OR DELETE ON "sessions" FOR EACH STATEMENT EXECUTE FUNCTION "sessions_changed_notify"();
CREATE TRIGGER "users_sessions_changed" AFTER UPDATE OF "disabled_at", "role", "password_hash" ON "users" FOR EACH STATEMENT EXECUTE FUNCTION "sessions_changed_notify"();
CREATE TRIGGER "beneficiaries_sessions_changed" AFTER UPDATE OF "status", "pin_hash" ON "beneficiaries" FOR EACH STATEMENT EXECUTE FUNCTION "sessions_changed_notify"();
CREATE TRIGGER "representations_sessions_changed" AFTER DELETE ON "representations" FOR EACH STATEMENT EXECUTE FUNCTION "sessions_changed_notify"();
