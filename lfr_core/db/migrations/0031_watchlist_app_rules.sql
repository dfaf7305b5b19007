-- Watchlist rules from the College of Policing APP (issue 27 item 5). Per entry: the legal basis on which the
-- image is held and used (its capture date is already recorded), and the subject's date of birth or age band, so
-- that a child on a list is seen, and listed only with the written rationale the pack's under-18 rule asks for
-- (lfr_core/db/policy/40_watchlist.sql lfr_check_entry_age). The list's age at activation is checked there too,
-- against the pack's max_list_age_hours.
ALTER TABLE watchlist_entries
    ADD COLUMN legal_basis        text CHECK (btrim(legal_basis) <> ''),
    ADD COLUMN date_of_birth      date,
    ADD COLUMN age_band           text CHECK (age_band IN ('under_18', '18_plus')),
    ADD COLUMN under_18_rationale text CHECK (btrim(under_18_rationale) <> '');
