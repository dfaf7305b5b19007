-- The scored searches of a recorded evaluation (numbers and group labels only: identities are pseudonymous
-- indices, never names or templates), so a transparency report can give per-group error rates with
-- intervals at the deployment's own threshold.
ALTER TABLE model_calibrations ADD COLUMN group_by text;
ALTER TABLE model_calibrations ADD COLUMN searches jsonb;
ALTER TABLE model_calibrations ADD COLUMN enrolments jsonb;
