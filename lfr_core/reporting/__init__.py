"""Reporting: what is published and shown about a deployment, read from the other contexts and changing none
of them: the transparency report (reports.py), the public record (public_record.py), the operator console's
view (officer_view.py) and the audit view of admins and auditors (audit_overview.py)."""
