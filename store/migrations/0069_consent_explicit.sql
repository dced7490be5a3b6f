-- Consent is stated, never assumed: every insert names it (a CSV import's consent column, the API's required
-- field). Without the default, a writer that forgets it fails instead of watching someone who never agreed.
-- Plain ALTER TABLE: the same on plain PostgreSQL and TimescaleDB (residents is an ordinary table in both).
ALTER TABLE residents ALTER COLUMN consent DROP DEFAULT;
