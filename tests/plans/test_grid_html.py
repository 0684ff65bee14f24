"""The grid's cells, written in Python: the markup the template wrote, exactly, and every
value escaped."""

from decimal import Decimal
from types import SimpleNamespace

from plans.grid import Cell, Row
from plans.grid_html import figure_cells, row_cells, totals, year_cells


def _row(cells, derived=False, partner=None, total=None, previous_total=None):
    line = SimpleNamespace(code="F110", unit="gbp000", label="Other income")
    return Row(line=line, counterparty=partner, cells=cells, total=total, derived=derived,
               previous_total=previous_total)  # fmt: skip


def test_an_editable_cell_holds_its_input_and_the_figure_it_started_from():
    row = _row([Cell("cell-F110-x-1", 1, Decimal("1234.500"))])
    assert row_cells(row, True) == (
        '<td id="cell-F110-x-1"><input name="v:F110::1" value="1,234.5" '
        'aria-labelledby="r-F110-x m1"><input type="hidden" name="e:F110::1" value="1234.5">'
        "</td>"
    )


def test_a_refused_cell_keeps_what_was_typed_and_says_why():
    partner = SimpleNamespace(ods_code="ZA3")
    cell = Cell("cell-F110-ZA3-2", 2, Decimal(7), problem="enter a number", typed="7x")
    assert row_cells(_row([cell], partner=partner), True) == (
        '<td class="ob-cell--error" id="cell-F110-ZA3-2"><input name="v:F110:ZA3:2" '
        'value="7x" aria-labelledby="r-F110-ZA3 m2" data-stored="7" id="in-cell-F110-ZA3-2" '
        'aria-invalid="true" aria-describedby="err-cell-F110-ZA3-2"><input type="hidden" '
        'name="e:F110:ZA3:2" value="7"><span class="ob-cell-error" id="err-cell-F110-ZA3-2">'
        '<span class="nhsuk-u-visually-hidden">Error:</span> enter a number</span></td>'
    )


def test_typed_text_is_escaped_and_an_unsaved_cell_says_so():
    cell = Cell("cell-F110-x-3", 3, None, typed='"><script>x</script>')
    html = row_cells(_row([cell]), True)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'class="ob-unsaved"' in html
    assert "Not saved: another cell of the same change was refused." in html


def test_a_worked_out_row_and_a_read_only_grid_show_figures_only():
    cells = [Cell("derived-F110-1", 1, Decimal("-2500"), changed=True), Cell("d-2", 2, None)]
    expected = '<td class="ob-changed" id="derived-F110-1">(2,500)</td><td id="d-2"></td>'
    assert row_cells(_row(cells, derived=True), True) == expected
    assert row_cells(_row(cells), False) == expected
    assert row_cells(_row(cells), False, only={"d-2"}) == '<td id="d-2"></td>'


def test_a_row_of_figures_states_each_in_its_unit():
    assert figure_cells([Decimal("1.5"), None], "wte", "c") == (
        '<td class="c">1.50</td><td class="c"></td>'
    )


def test_a_rows_year_and_its_change_since_the_version_compared_with():
    row = _row([], total=Decimal(1200), previous_total=Decimal(1500))
    assert year_cells(row, False) == '<td class="ob-year" id="total-F110-x">1,200</td>'
    assert year_cells(row, True) == (
        '<td class="ob-year" id="total-F110-x">1,200</td><td id="prev-F110-x">1,500</td>'
        '<td id="change-F110-x">(300)</td>'
    )
    assert year_cells(_row([]), False) == '<td class="ob-year" id="total-F110-x"></td>'


def test_what_an_edit_moves_is_every_year_and_each_worked_out_rows_months():
    typed = _row([Cell("cell-F110-x-1", 1, Decimal(1))], total=Decimal(1))
    worked = _row([Cell("derived-F110-1", 1, Decimal(-3), changed=True)], derived=True)
    assert totals([typed, worked], False) == (
        '<td class="ob-year" id="total-F110-x">1</td>'
        '<td class="ob-year" id="total-F110-x"></td>'
        '<td class="ob-changed" id="derived-F110-1">(3)</td>'
    )
