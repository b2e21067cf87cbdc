"""Access control and login protection tests."""
