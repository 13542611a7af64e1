-- Hand-written: the registry's published reads for queries that label, group, filter or page by
-- its data inside one statement (docs/architecture.md, "Who owns which table", and registry/README.md).
-- Each installation's code, province and capacity: billing's reports by province, its attention
-- list and bills paged by installation code, the cash position, a settlement's code.
CREATE VIEW "installation_summaries" AS
SELECT i."id", i."code", i."province_id", p."code" AS "province_code", i."dc_capacity_kwp"
FROM "installations" i
JOIN "provinces" p ON p."id" = i."province_id";

-- Each loan's installation, reference and principal: a statement's loans are read with the
-- statement's deductions in one round trip (the portal's statement page).
CREATE VIEW "loan_terms" AS
SELECT l."id", l."installation_id", l."reference", l."principal_rials"
FROM "loans" l;
