-- A loan's installments must repay its principal (issue 19, row 9): whatever creates a loan (API,
-- demo seed, SQL by hand) is refused otherwise. NOT VALID: loans made before keep their rows, and
-- billing completes them (the last installment takes what remains).
ALTER TABLE "loans" ADD CONSTRAINT "loans_schedule_covers_principal" CHECK ("installment_rials" * "installments" >= "principal_rials") NOT VALID
