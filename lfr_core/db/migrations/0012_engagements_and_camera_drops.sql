-- What came of an engagement after a confirmed alert (counted in the published results), recorded once by
-- an operator of the deployment in their own name (lfr_core/db/policy.sql).
ALTER TABLE alerts ADD COLUMN engagement text
    CHECK (engagement IN ('spoken_to', 'arrested', 'no_further_action', 'misidentified'));
ALTER TABLE alerts ADD COLUMN engagement_by text;
ALTER TABLE alerts ADD COLUMN engagement_at timestamptz;
ALTER TABLE alerts ADD COLUMN engagement_note text;

-- Frames a camera lost to back-pressure or an unavailable model (the console's camera tiles).
ALTER TABLE deployment_counters ADD COLUMN frames_dropped bigint NOT NULL DEFAULT 0;
