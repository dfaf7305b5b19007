-- Append-only, hash-chained audit log (EU AI Act Art 12 record keeping).
-- Each row's hash covers the previous row's hash, so an edited, inserted or deleted row breaks the chain.
CREATE TABLE audit_log (
    seq            bigint PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    actor          text NOT NULL CHECK (actor <> ''),
    role           text NOT NULL CHECK (role <> ''),
    action         text NOT NULL CHECK (action <> ''),
    object_type    text NOT NULL,
    object_id      text NOT NULL,
    details        jsonb NOT NULL,
    details_sha256 text NOT NULL,
    prev_hash      text NOT NULL,
    row_hash       text NOT NULL UNIQUE
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
