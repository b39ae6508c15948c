"""The composition layer above the clinical domains: a patient's chart (demographics with what
the notes, the appointment book and, later, prescriptions and orders say of the patient), the
history timeline, and deactivation with its cascade. ``patients`` knows none of the domains
built on it; this package joins them."""
