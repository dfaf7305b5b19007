-- Policy packs and the deployment record (issue 27 items 1 and 2). A pack (lfr_core/deployments/policy.py) is the
-- written policy a deployment runs under: its closed list of use cases and the categories each permits, the
-- assessments an approval needs, the longest window, and the rest. Each loaded version is kept whole, with the
-- hash of its content, and never changes (a changed file is a new version), so a deployment that names a version
-- keeps the rules it was planned and approved under.
CREATE TABLE policy_packs (
    name           text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]*$'),
    version        integer NOT NULL CHECK (version > 0),
    content        jsonb NOT NULL CHECK (content ->> 'name' = name AND (content ->> 'version')::integer = version),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    loaded_by      text NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- The deployment record: the pack and use case it runs under, the normative location rationale (Bridges para
-- 130: why listed people are expected at this place), the references to the assessments, and a withheld
-- notice's reason. Nullable for deployments planned before packs existed; the deployments' guard requires them of
-- every new one.
ALTER TABLE deployments
    ADD COLUMN policy_name            text,
    ADD COLUMN policy_version         integer,
    ADD COLUMN use_case               text,
    ADD COLUMN location_rationale     text CHECK (btrim(location_rationale) <> ''),
    ADD COLUMN dpia_ref               text CHECK (btrim(dpia_ref) <> ''),
    ADD COLUMN eia_ref                text CHECK (btrim(eia_ref) <> ''),
    ADD COLUMN fria_ref               text CHECK (btrim(fria_ref) <> ''),
    ADD COLUMN registration_ref       text CHECK (btrim(registration_ref) <> ''),
    ADD COLUMN notice_withheld_reason text CHECK (btrim(notice_withheld_reason) <> ''),
    ADD CONSTRAINT deployments_policy_pack FOREIGN KEY (policy_name, policy_version)
        REFERENCES policy_packs (name, version) ON DELETE RESTRICT,
    ADD CONSTRAINT deployments_policy_whole
        CHECK (num_nulls(policy_name, policy_version, use_case, location_rationale) IN (0, 4));

-- Sealing a list needs every reference its deployment's pack requires (lfr_core/db/policy/40_watchlist.sql).
ALTER TABLE state_transitions DROP CONSTRAINT state_transitions_requires_check;
ALTER TABLE state_transitions ADD CONSTRAINT state_transitions_requires_check
    CHECK (requires <@ ARRAY['four_eyes', 'approved', 'in_window', 'before_window_end', 'deployment_open',
                             'list_active', 'window_ended', 'resolved_evidence', 'pack_references']);
UPDATE state_transitions SET requires = requires || '{pack_references}'
WHERE object_type = 'watchlist_version' AND from_state = 'draft' AND to_state = 'approved';
