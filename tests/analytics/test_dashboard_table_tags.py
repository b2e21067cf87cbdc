"""The dashboard's tables written in Python: values localized and escaped, gaps as —."""

from django.utils import translation

from complaints.templatetags.dashboard_tags import chart_table_rows, group_table_rows


def test_chart_rows_escape_label_and_link_and_mark_percent():
    table = {
        "percent": True,
        "rows": [
            {
                "label": "<b>Kettle</b>",
                "cells": [
                    {"value": 93.5, "link": "/queue/all/?a=1&b=<x>"},
                    {"value": None, "link": "/x/"},
                    {"value": 7, "link": None},
                ],
            }
        ],
    }
    html = str(chart_table_rows(table))
    assert "<b>Kettle" not in html and "&lt;b&gt;Kettle&lt;/b&gt;" in html
    assert '<a href="/queue/all/?a=1&amp;b=&lt;x&gt;">93.5 %</a>' in html
    assert '<td class="text-end">—</td>' in html
    assert '<td class="text-end">7 %</td>' in html


def test_chart_without_rows_says_nothing_in_period():
    with translation.override("zh-hans"):
        html = str(chart_table_rows({"rows": []}))
    assert "此时间范围内暂无数据。" in html  # translated when rendered
    assert str(chart_table_rows(None)).count("<tr>") == 1


def test_group_rows_every_cell():
    rows = [
        {
            "pk": 3,
            "name": "Li <script>",
            "link": "/queue/all/?assignee=3&period=30d",
            "report_link": "/dashboard/report/?team=3",
            "received": 1200,
            "resolved": 7,
            "backlog": 0,
            "resolution_compliance": 88.2,
            "csat": 4.25,
            "answers": 12,
            "resolution_median_text": "3h 05m",
        },
        {
            "pk": 4,
            "name": "Zhao",
            "link": "/q/",
            "received": 0,
            "resolved": 0,
            "backlog": 2,
            "resolution_compliance": None,
            "csat": None,
            "answers": 0,
            "resolution_median_text": "",
        },
    ]
    html = str(group_table_rows(rows))
    first, second = html.split("\n")
    assert first.startswith('<tr data-row="3">')
    assert "Li &lt;script&gt;" in first and "<script>" not in html
    assert 'href="/queue/all/?assignee=3&amp;period=30d"' in first
    assert "data-report-link>Monthly report</a>" in first
    assert '<td class="text-end received">1200</td>' in first
    assert '<td class="text-end">88.2 %</td>' in first
    assert '4.25 <small class="text-muted">(12)</small>' in first
    assert '<td class="text-end">3h 05m</td>' in first
    assert "data-report-link" not in second
    assert second.count('<td class="text-end">—</td>') == 3


def test_no_group_rows_is_one_row_saying_so():
    html = str(group_table_rows([]))
    assert html.count("<tr>") == 1 and 'colspan="7"' in html
