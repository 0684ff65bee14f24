"""A grid's cells, written by plans/grid_html.py: `{% row_cells row editing %}`,
`{% year_cells row compared %}` and `{% grid_totals rows compared %}`."""

from django import template

from plans import grid_html

register = template.Library()


@register.simple_tag
def row_cells(row, editing, only=None):
    return grid_html.row_cells(row, bool(editing), only)


@register.simple_tag
def year_cells(row, compared):
    return grid_html.year_cells(row, bool(compared))


@register.simple_tag
def grid_totals(rows, compared):
    return grid_html.totals(rows, bool(compared))
