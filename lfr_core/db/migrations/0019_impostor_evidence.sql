-- A threshold only where the evidence resolves the list (issue 32 item 5, lfr_core/evaluation/impostor.py).
-- A calibration keeps the per-comparison impostor tail: how many pairs of images of different identities it
-- scored, and at each grid threshold how many reached it with the 95% upper bound on the rate (numbers only).
ALTER TABLE model_calibrations
    ADD COLUMN impostor_pairs bigint CHECK (impostor_pairs >= 0),
    ADD COLUMN impostor_tail  jsonb CHECK (impostor_tail IS NULL OR jsonb_typeof(impostor_tail) = 'array');

-- A version records the evidence for its threshold at its size: the calibration it was judged by, the target
-- FPIR, the assessment as the builder's platform made it (shown to the authoriser), and an authoriser's recorded
-- decision to seal a list the evidence does not resolve.
ALTER TABLE watchlist_versions
    ADD COLUMN evidence_calibration_id  bigint REFERENCES model_calibrations (id),
    ADD COLUMN evidence_target_fpir     double precision CHECK (evidence_target_fpir > 0 AND evidence_target_fpir <= 0.5),
    ADD COLUMN evidence                 jsonb,
    ADD COLUMN evidence_override_by     text,
    ADD COLUMN evidence_override_reason text,
    ADD COLUMN evidence_override_at     timestamptz,
    ADD CONSTRAINT watchlist_versions_evidence_override_check
        CHECK (num_nonnulls(evidence_override_by, evidence_override_reason, evidence_override_at) IN (0, 3));

--   resolved_evidence  the recorded impostor tail at the version's threshold keeps FPIR at its size within its
--                      target (lfr_evidence_resolves), or an authoriser other than the builder recorded a reason
ALTER TABLE state_transitions DROP CONSTRAINT state_transitions_requires_check;
ALTER TABLE state_transitions ADD CONSTRAINT state_transitions_requires_check
    CHECK (requires <@ ARRAY['four_eyes', 'approved', 'in_window', 'before_window_end', 'deployment_open',
                             'list_active', 'window_ended', 'resolved_evidence']);
UPDATE state_transitions SET requires = requires || '{resolved_evidence}'
WHERE object_type = 'watchlist_version' AND (from_state, to_state) IN (('draft', 'approved'), ('approved', 'active'));
