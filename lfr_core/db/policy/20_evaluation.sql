-- Model calibrations (lfr_core/evaluation/calibration.py): recorded by an admin or the platform, never changed.

DROP TRIGGER IF EXISTS lfr_guard ON model_calibrations;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON model_calibrations
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('record a model calibration', 'admin', 'system');
GRANT SELECT ON model_calibrations TO lfr_person;
GRANT INSERT ON model_calibrations TO lfr_admin;

-- Condition curves (lfr_core/evaluation/conditions.py): recorded by an admin or the platform, never changed.
DROP TRIGGER IF EXISTS lfr_guard ON model_condition_curves;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON model_condition_curves
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('record a model condition curve', 'admin', 'system');
GRANT SELECT ON model_condition_curves TO lfr_person;
GRANT INSERT ON model_condition_curves TO lfr_admin;
