-- A request's phone sealed like the register's (AES-GCM under the configured key): the
-- sealed value in its own column, the masked form left in `resident_phone` for display.
-- Rows written before, or by a deployment without a key, keep the phone in full there
-- until the server's startup pass (or `doorstep keys rotate`) seals it.

ALTER TABLE requests ADD COLUMN resident_phone_sealed TEXT;
CREATE INDEX requests_phone_unsealed ON requests (id)
    WHERE resident_phone IS NOT NULL AND resident_phone_sealed IS NULL;
