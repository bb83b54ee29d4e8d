"""transformer_lib.book.glue: la salida que lee myst-nb y la que ven Jupyter y Colab (issue 25)."""

from __future__ import annotations

import copy

import nbformat
import pytest
from myst_nb.core.variables import format_plain_text
from myst_nb.ext.glue import extract_glue_data_cell

from transformer_lib.book import GLUE_PREFIX, format_number, glue, glue_output


def _cell_with(name: str, value: object, **kwargs: object) -> nbformat.NotebookNode:
    _, data, metadata = glue_output(name, value, **kwargs)
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    nbformat.validate(nbformat.v4.new_notebook(cells=[cell]))
    return cell


@pytest.mark.parametrize("display", [True, False])
def test_myst_nb_reads_the_text_and_hides_the_output(display: bool) -> None:
    cell = _cell_with("heads_seeds", "2,15", display=display)
    book_cell = copy.deepcopy(cell)
    [(name, output)] = extract_glue_data_cell(book_cell)
    assert name == "heads_seeds"
    assert format_plain_text(output["data"]["text/plain"], "") == "2,15"  # sin comillas
    assert book_cell.outputs == []  # el libro no enseña la salida
    shown = cell.outputs[0]["data"].get("text/plain")  # lo que enseñan Jupyter y Colab
    assert shown == ("heads_seeds: 2,15" if display else None)


def test_numbers_use_a_decimal_comma() -> None:
    assert glue_output("a", 2.154, digits=2)[0] == "2,15"
    assert glue_output("a", 12)[0] == "12"
    assert glue_output("a", float("nan"), digits=1)[0] == "—"
    assert format_number(3.0, 0) == "3"
    assert GLUE_PREFIX + "text/plain" in glue_output("a", "x")[1]


def test_outside_a_kernel_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert glue("ppl_first", 4.567, digits=1) == "4,6"
    assert capsys.readouterr().out == "ppl_first: 4,6\n"
    glue("oculta", "x", display=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("name", "value", "digits", "error", "message"),
    [
        ("dos palabras", "x", None, ValueError, "'dos palabras'"),
        ("a", 2.5, None, ValueError, "decimales lleva 2.5"),
        ("a", "texto", 2, ValueError, "'texto' es un texto"),
        ("a", [1, 2], None, TypeError, "[1, 2]"),
        ("a", True, None, TypeError, "True"),
        ("a", 1.0, -1, ValueError, "-1"),
    ],
)
def test_bad_input_names_the_value(name, value, digits, error, message) -> None:
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        glue_output(name, value, digits)
