"""`{% row_cells row editing %}`: a grid row's cells, written by plans/grid_html.py."""

from django import template

from plans import grid_html

register = template.Library()


@register.simple_tag
def row_cells(row, editing, only=None):
    return grid_html.row_cells(row, bool(editing), only)
