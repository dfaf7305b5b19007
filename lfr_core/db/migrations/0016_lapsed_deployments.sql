-- A deployment whose window passes without it going live lapses (issue 31): it is no longer "planned" in
-- the CLI, the audit view or the public record, which says live facial recognition was not used. Only the
-- platform (the deployment's run or the reconciling sweep) or an admin moves it, and only once the window
-- has ended:
--   window_ended  now >= window_end
ALTER TABLE deployments DROP CONSTRAINT deployments_status_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_status_check
    CHECK (status IN ('planned', 'live', 'closed', 'cancelled', 'lapsed'));

ALTER TABLE state_transitions DROP CONSTRAINT state_transitions_requires_check;
ALTER TABLE state_transitions ADD CONSTRAINT state_transitions_requires_check
    CHECK (requires <@ ARRAY['four_eyes', 'approved', 'in_window', 'before_window_end', 'deployment_open',
                             'list_active', 'window_ended']);

INSERT INTO state_transitions (object_type, from_state, to_state, roles, assigned, requires) VALUES
    ('deployment', 'planned', 'lapsed', '{admin,system}', NULL, '{window_ended}');
