-- An installation's contracts replace each other by start date, so at most one starts on a day:
-- two requests at once (or two by hand) could both add one, and billing then took the higher id.
-- A database that already holds such a pair is refused with the pairs named, before anything changes:
-- which contract is right is the program's decision, not the upgrade's. (Semicolons inside the block
-- are \073: the migration runner splits statements at every semicolon, as in the trigger functions.)
DO E'
DECLARE
  clashes text\073
BEGIN
  SELECT string_agg(format(\'installation %s on %s: %s\', i.code, d.start_date, d.refs), \'\073 \' ORDER BY i.code, d.start_date)
    INTO clashes
    FROM (
      SELECT installation_id, start_date, string_agg(reference, \', \' ORDER BY id) AS refs
        FROM contracts GROUP BY installation_id, start_date HAVING count(*) > 1
    ) d
    JOIN installations i ON i.id = d.installation_id\073
  IF clashes IS NOT NULL THEN
    RAISE EXCEPTION \'contracts that start on the same day of one installation: %. Billing used the last one listed\073 \'
      \'delete the others or move their start date (as the program decides), then \'
      \'mark this attempt rolled back (UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = \'\'\'
      \'20261206013000_contract_start_unique\'\' AND finished_at IS NULL) and run setup again\', clashes\073
  END IF\073
END';

-- CreateIndex
CREATE UNIQUE INDEX "contracts_installation_id_start_date_key" ON "contracts"("installation_id", "start_date");
