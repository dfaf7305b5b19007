-- The kind of authority that decided a use (Regulation (EU) 2024/1689 Art 5(3): "a judicial authority or an
-- independent administrative authority whose decision is binding"), recorded by the authoriser with the decision,
-- so that the notification and the Art 5(6) statistics count decisions by kind from the record, never from a
-- reading of the authority's name. Decisions recorded before this column keep it empty (NOT VALID: the check
-- holds for every row written from now on).
ALTER TABLE deployment_authorisations
    ADD COLUMN authority_kind text CHECK (authority_kind IN ('judicial', 'administrative'));
ALTER TABLE deployment_authorisations
    ADD CONSTRAINT deployment_authorisations_decision_kind
    CHECK (kind = 'urgent_start' OR authority_kind IS NOT NULL) NOT VALID;
