-- Hand-written: the registry's view of loans gives all of a loan's terms, so billing's month reads
-- each loan with what closed months repaid of it (its own loan_deductions) in one statement, as it
-- did before loans were the registry's alone. Columns are only added (the view's first four stay).
CREATE OR REPLACE VIEW "loan_terms" AS
SELECT l."id", l."installation_id", l."reference", l."principal_rials",
       l."installment_rials", l."installments", l."first_due_month"
FROM "loans" l;
