-- Threshold governance (issue 27 item 4): a change of a deployment's match threshold is an authoriser's recorded
-- decision naming the equitability evaluation (an `lfr eval --record` calibration with per-group searches) valid
-- at the new value, with the per-group rates and the trade at the old and new values that they saw before
-- confirming. The deployment points at the decision that set its threshold (lfr_core/db/policy/35_thresholds.sql
-- refuses a change without one, and a value under the pack's floor for the model).
CREATE TABLE threshold_decisions (
    id              bigserial PRIMARY KEY,
    deployment_id   uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    old_threshold   real CHECK (old_threshold > 0 AND old_threshold < 1),  -- NULL: calibrated per list
    new_threshold   real NOT NULL CHECK (new_threshold > 0 AND new_threshold < 1),
    calibration_id  bigint NOT NULL REFERENCES model_calibrations (id) ON DELETE RESTRICT,
    embedder_sha256 text NOT NULL,
    floor           double precision NOT NULL,
    preview         jsonb NOT NULL CHECK (jsonb_typeof(preview) = 'object'),
    reason          text NOT NULL CHECK (btrim(reason) <> ''),
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threshold_decisions_deployment ON threshold_decisions (deployment_id, decided_at DESC);

ALTER TABLE deployments ADD COLUMN threshold_decision_id bigint REFERENCES threshold_decisions (id);
