-- The lifecycles of watchlist versions and deployments, as data (issue 25): every state change one may make,
-- who may make it and what must hold first. The guard triggers (lfr_core/db/policy.sql) refuse any change
-- of state that is not a row here, so a person's own login cannot skip a step by direct SQL.
--   roles:    the platform roles that may make the change;
--   assigned: where one of those roles acts only on the deployments a person is assigned to (deployment_staff),
--             that role;
--   requires: the conditions checked at the moment of the change:
--             four_eyes          approved in the approver's own name by someone other than the builder
--             approved           the version carries an approval by someone other than its builder
--             in_window          window_start <= now < window_end
--             before_window_end  now < window_end
--             deployment_open    the deployment is neither cancelled nor closed
--             list_active        the deployment has an active watchlist version
CREATE TABLE state_transitions (
    object_type text NOT NULL CHECK (object_type IN ('watchlist_version', 'deployment')),
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    roles       text[] NOT NULL CHECK (cardinality(roles) > 0),
    assigned    text CHECK (assigned IS NULL OR assigned = ANY (roles)),
    requires    text[] NOT NULL DEFAULT '{}' CHECK (requires <@ ARRAY['four_eyes', 'approved', 'in_window',
                                                                    'before_window_end', 'deployment_open',
                                                                    'list_active']),
    PRIMARY KEY (object_type, from_state, to_state)
);

INSERT INTO state_transitions (object_type, from_state, to_state, roles, assigned, requires) VALUES
    ('watchlist_version', 'draft',    'approved', '{authoriser}',             NULL,
     '{four_eyes,before_window_end,deployment_open}'),
    ('watchlist_version', 'draft',    'purging',  '{admin,system}',           NULL, '{}'),
    ('watchlist_version', 'approved', 'active',   '{operator,admin,system}',  'operator',
     '{approved,in_window,deployment_open}'),
    ('watchlist_version', 'approved', 'expired',  '{operator,admin,system}',  'operator', '{}'),
    ('watchlist_version', 'approved', 'purging',  '{admin,system}',           NULL, '{}'),
    ('watchlist_version', 'active',   'expired',  '{operator,admin,system}',  'operator', '{}'),
    ('watchlist_version', 'expired',  'purging',  '{admin,system}',           NULL, '{}'),
    ('watchlist_version', 'purging',  'purged',   '{admin,system}',           NULL, '{}'),
    ('deployment',        'planned',  'live',     '{operator,admin,system}',  'operator', '{in_window,list_active}'),
    ('deployment',        'live',     'closed',   '{operator,admin,system}',  'operator', '{}'),
    ('deployment',        'planned',  'cancelled', '{planner,admin,system}',  NULL, '{}'),
    ('deployment',        'live',     'cancelled', '{planner,admin,system}',  NULL, '{}');
