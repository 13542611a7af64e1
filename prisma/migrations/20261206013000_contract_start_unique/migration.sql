-- An installation's contracts replace each other by start date, so at most one starts on a day:
-- two requests at once (or two by hand) could both add one, and billing then took the higher id.
-- CreateIndex
CREATE UNIQUE INDEX "contracts_installation_id_start_date_key" ON "contracts"("installation_id", "start_date");
