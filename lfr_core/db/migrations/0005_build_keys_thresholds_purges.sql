-- Build keys belong to one deployment: the same key on another deployment is another build.
ALTER TABLE watchlist_versions DROP CONSTRAINT watchlist_versions_build_key_key;
CREATE UNIQUE INDEX watchlist_versions_build_key ON watchlist_versions (deployment_id, build_key)
    WHERE build_key IS NOT NULL;

-- A deployment may leave its threshold to the list's model: NULL means "the recorded calibration of the
-- model the list is built with, at match.target_fpir" (lfr_core.watchlist.threshold). Cosine thresholds
-- outside (0, 1) never make sense for a match.
ALTER TABLE deployments ALTER COLUMN threshold DROP NOT NULL;
ALTER TABLE deployments DROP CONSTRAINT deployments_threshold_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_threshold_check CHECK (threshold > 0 AND threshold < 1);
ALTER TABLE watchlist_versions ADD CONSTRAINT watchlist_versions_threshold_check CHECK (threshold > 0 AND threshold < 1);
ALTER TABLE watchlist_versions ADD COLUMN threshold_source text;

-- Why a deployment was cancelled (lfr deployment cancel), and whether its last published report still
-- counted alerts awaiting adjudication (the expiry sweep republishes it once they are decided).
ALTER TABLE deployments ADD COLUMN cancel_reason text;
ALTER TABLE deployments ADD COLUMN report_pending_alerts integer;
