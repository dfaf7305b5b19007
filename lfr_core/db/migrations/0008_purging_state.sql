-- A purge is two stores, PostgreSQL and S3, that cannot commit together: the version is 'purging' from the
-- moment its templates are deleted until every image copy is confirmed gone, and each entry records what
-- happened to its copy, so an interrupted purge resumes and its receipt tells deleted from already missing.
ALTER TABLE watchlist_versions DROP CONSTRAINT watchlist_versions_state_check;
ALTER TABLE watchlist_versions ADD CONSTRAINT watchlist_versions_state_check
    CHECK (state IN ('draft', 'approved', 'active', 'expired', 'purging', 'purged'));
ALTER TABLE watchlist_versions ADD COLUMN purge_progress jsonb;
ALTER TABLE watchlist_entries ADD COLUMN image_purge text
    CHECK (image_purge IN ('deleting', 'deleted', 'missing', 'kept'));
