-- Deployments, watchlist versions, their entries and embeddings (R (Bridges) v CC South Wales: who may be
-- on a list, where it may be used, and that it is deleted afterwards).
CREATE TABLE deployments (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    place               text NOT NULL CHECK (place <> ''),
    purpose             text NOT NULL CHECK (purpose <> ''),
    legal_basis         text NOT NULL CHECK (legal_basis <> ''),
    intelligence_ref    text NOT NULL CHECK (intelligence_ref <> ''),
    window_start        timestamptz NOT NULL,
    window_end          timestamptz NOT NULL,
    authorising_officer text NOT NULL CHECK (authorising_officer <> ''),
    allowed_categories  text[] NOT NULL CHECK (cardinality(allowed_categories) > 0),
    threshold           real NOT NULL CHECK (threshold BETWEEN -1 AND 1),
    status              text NOT NULL DEFAULT 'planned'
                        CHECK (status IN ('planned', 'live', 'closed', 'cancelled')),
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end > window_start)
);

CREATE TABLE watchlist_versions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    deployment_id     uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    version           integer NOT NULL CHECK (version > 0),
    state             text NOT NULL DEFAULT 'draft'
                      CHECK (state IN ('draft', 'approved', 'active', 'expired', 'purged')),
    build_key         text UNIQUE,
    built_by          text NOT NULL,
    built_at          timestamptz NOT NULL DEFAULT now(),
    manifest_uri      text NOT NULL,
    manifest_sha256   text NOT NULL,
    detector          jsonb NOT NULL,
    embedder          jsonb NOT NULL,
    embedder_sha256   text NOT NULL,
    embedding_dim     integer NOT NULL CHECK (embedding_dim > 0),
    threshold         real NOT NULL,
    entries_total     integer NOT NULL,
    entries_accepted  integer NOT NULL,
    entries_rejected  integer NOT NULL,
    snapshot_uri      text,
    snapshot_sha256   text,
    snapshot_version  text,
    approved_by       text,
    approved_at       timestamptz,
    criteria_sha256   text,
    activated_at      timestamptz,
    expired_at        timestamptz,
    purged_at         timestamptz,
    purge_receipt     jsonb,
    UNIQUE (deployment_id, version)
);
-- At most one active list per deployment.
CREATE UNIQUE INDEX watchlist_one_active ON watchlist_versions (deployment_id) WHERE state = 'active';

CREATE TABLE watchlist_entries (
    id              bigserial PRIMARY KEY,
    version_id      uuid NOT NULL REFERENCES watchlist_versions (id) ON DELETE CASCADE,
    subject_ref     text NOT NULL,
    category        text NOT NULL,
    rationale       text NOT NULL,
    provenance      text NOT NULL,
    capture_date    date,
    source_uri      text NOT NULL,
    image_sha256    text,
    image_uri       text,
    status          text NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reason          text,
    quality         jsonb,
    UNIQUE (version_id, subject_ref)
);

-- Templates: untyped vector plus its dimension, so several models can coexist; the HNSW index is a
-- partial expression index per dimension (see lfr_core.watchlist.vector_index).
CREATE TABLE watchlist_embeddings (
    entry_id       bigint PRIMARY KEY REFERENCES watchlist_entries (id) ON DELETE CASCADE,
    version_id     uuid NOT NULL REFERENCES watchlist_versions (id) ON DELETE CASCADE,
    embedding_dim  integer NOT NULL,
    embedding      vector NOT NULL,
    CHECK (vector_dims(embedding) = embedding_dim)
);
CREATE INDEX watchlist_embeddings_version ON watchlist_embeddings (version_id);
