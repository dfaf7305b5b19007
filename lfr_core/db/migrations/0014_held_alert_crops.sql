-- The probe crop of an alert raised while the object store is down, kept here with its alert row and audit
-- record (one transaction) until the live service moves it to the store (lfr_core/alerts.py): an alert the
-- camera is told about survives the death of the process that raised it. Only the live service reads or
-- writes these rows; people see the crop only through the audited officers' route (lfr_core/db/policy.sql).
CREATE TABLE held_alert_crops (
    alert_id     uuid PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    crop         bytea NOT NULL CHECK (octet_length(crop) > 0),
    crop_sha256  text NOT NULL CHECK (crop_sha256 ~ '^[0-9a-f]{64}$'),
    held_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX held_alert_crops_held_at ON held_alert_crops (held_at);
