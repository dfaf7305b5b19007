-- The live gate from evidence (issue 32 item 2). A version records, when it is built, the face size its model
-- recognises reliably (lfr_core/evaluation/conditions.py reliable_size on the embedder's latest recorded size
-- curve, never below the live gate's configured minimum) and where that size came from (the curve, the model,
-- the factor), and the live gate runs at that size. A deployment runs below it only with an authoriser's
-- recorded decision: the size, who, when and why (policy/40_watchlist.sql refuses a gate below the recorded
-- reliable size without one, and audits the decision).
ALTER TABLE watchlist_versions
    ADD COLUMN reliable_face_px     integer CHECK (reliable_face_px > 0),
    ADD COLUMN reliable_face_source jsonb,
    ADD COLUMN gate_face_px         integer CHECK (gate_face_px > 0),
    ADD COLUMN gate_decided_by      text,
    ADD COLUMN gate_reason          text,
    ADD COLUMN gate_decided_at      timestamptz,
    ADD CONSTRAINT watchlist_versions_gate_decision_check
        CHECK (num_nonnulls(gate_decided_by, gate_reason, gate_decided_at) IN (0, 3));
