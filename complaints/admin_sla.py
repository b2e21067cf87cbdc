"""Admin registrations (imported by complaints/admin.py)."""
