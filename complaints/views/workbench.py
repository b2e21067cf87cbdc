"""Workbench screens around the queues: recording phone and in-store complaints,
notifications, workload, bulk actions and saved filters."""

urlpatterns: list = []
