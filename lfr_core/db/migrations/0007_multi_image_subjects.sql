-- A subject may be enrolled from several custody photographs: one entry (and template) per image, numbered
-- within the subject in manifest order. Matching scores a subject by its best template.
ALTER TABLE watchlist_entries DROP CONSTRAINT watchlist_entries_version_id_subject_ref_key;
ALTER TABLE watchlist_entries ADD COLUMN image_index integer NOT NULL DEFAULT 0 CHECK (image_index >= 0);
ALTER TABLE watchlist_entries ADD CONSTRAINT watchlist_entries_subject_image UNIQUE (version_id, subject_ref, image_index);
