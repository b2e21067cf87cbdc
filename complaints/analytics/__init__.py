"""Analysis (数据分析): the supervisor dashboard's figures and charts.

- filters.py: `DashboardFilter` (period and dimensions) and the form that builds it;
  `scope` — which complaints a user's figures count.
- durations.py: the business-time rollup (`ComplaintDurations`) and its refresh.
- percentiles.py: medians and percentiles in the database.
- figures.py: the headline figures; charts.py: the series, tables and queue links.

Every figure is a fixed number of aggregate queries, whatever the number of
complaints: nothing loops over complaint rows in Python.
"""
