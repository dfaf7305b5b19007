-- External prior authorisation and the urgency path (issue 27 item 3; Regulation (EU) 2024/1689 Art 5(3)). Under a
-- pack whose `external_authorisation.required` is true, each use is authorised beforehand by a judicial or
-- independent administrative authority; in a duly justified urgency it may start without, if the decision comes
-- within the pack's urgency_hours. A refusal, or the deadline passing without a decision, stops the use and
-- discards all its data, results and outputs, leaving the audit log and a receipt (lfr_core/db/policy/
-- 55_use_authorisation.sql).
CREATE TABLE deployment_authorisations (
    id            bigserial PRIMARY KEY,
    deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
    kind          text NOT NULL CHECK (kind IN ('granted', 'refused', 'urgent_start')),
    authority     text CHECK (btrim(authority) <> ''),
    decision_ref  text CHECK (btrim(decision_ref) <> ''),
    decided_on    date,
    scope         text CHECK (btrim(scope) <> ''),
    justification text CHECK (btrim(justification) <> ''),
    deadline      timestamptz,
    recorded_by   text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'granted' OR num_nulls(authority, decision_ref, decided_on, scope) = 0),
    CHECK (kind <> 'refused' OR num_nulls(authority, decision_ref) = 0),
    CHECK ((kind = 'urgent_start') = (justification IS NOT NULL AND deadline IS NOT NULL))
);
-- One decision per use, and one urgent start.
CREATE UNIQUE INDEX deployment_authorisations_decision ON deployment_authorisations (deployment_id)
    WHERE kind IN ('granted', 'refused');
CREATE UNIQUE INDEX deployment_authorisations_urgent ON deployment_authorisations (deployment_id)
    WHERE kind = 'urgent_start';

-- What was deleted of a use that was refused or never authorised in time: counts, the sha256 of each crop's
-- object key (never the key's content), when, by whom and why. Written only by public.lfr_discard_use.
CREATE TABLE use_deletion_receipts (
    deployment_id uuid PRIMARY KEY REFERENCES deployments (id) ON DELETE RESTRICT,
    reason        text NOT NULL CHECK (btrim(reason) <> ''),
    deleted       jsonb NOT NULL,
    deleted_by    text NOT NULL,
    deleted_at    timestamptz NOT NULL DEFAULT now()
);

-- Activation needs the authorisation, or a live urgency window, where the pack requires one.
ALTER TABLE state_transitions DROP CONSTRAINT state_transitions_requires_check;
ALTER TABLE state_transitions ADD CONSTRAINT state_transitions_requires_check
    CHECK (requires <@ ARRAY['four_eyes', 'approved', 'in_window', 'before_window_end', 'deployment_open',
                             'list_active', 'window_ended', 'resolved_evidence', 'pack_references', 'authorised']);
UPDATE state_transitions SET requires = requires || '{authorised}'
WHERE object_type = 'watchlist_version' AND from_state = 'approved' AND to_state = 'active';
