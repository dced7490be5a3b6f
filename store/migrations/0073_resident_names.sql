-- Who a resident is, for the people who phone about them: a name and an age, both optional (an estate may load
-- pseudonymous ids only). Personal data: the API shows them to operators and admins, never to viewers.
-- Plain ALTER TABLE: the same on plain PostgreSQL and TimescaleDB (residents is an ordinary table in both).
ALTER TABLE residents ADD COLUMN IF NOT EXISTS name text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100);
ALTER TABLE residents ADD COLUMN IF NOT EXISTS age integer CHECK (age IS NULL OR age BETWEEN 0 AND 130);
