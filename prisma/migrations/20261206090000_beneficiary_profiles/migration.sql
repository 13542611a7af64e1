-- Hand-written: the registry's published read of a person for the API's sessions and the portal's
-- pages, which join it to their own tables (sessions, representations, representatives) in the one
-- statement a request makes (docs/architecture.md, "Who owns which table", and registry/README.md).
-- Each beneficiary's name, province code, whether they are still in the program, and their Sheba
-- masked as the portal shows it (country and last four): no national code, mobile, full Sheba or
-- PIN hash. The province is a LEFT JOIN (every beneficiary has one) so that a query which does not
-- read it does not join it: the planner drops an unused left join on a unique key.
CREATE VIEW "beneficiary_profiles" AS
SELECT b."id", b."full_name", p."code" AS "province_code", b."status" <> 'EXITED' AS "in_program",
       left(b."sheba", 2) || '…' || right(b."sheba", 4) AS "sheba_masked"
FROM "beneficiaries" b
LEFT JOIN "provinces" p ON p."id" = b."province_id";
