"""The report schema documents itself: every figure has a kind and a meaning, and the README's table
is what the classes say."""

from pathlib import Path

import pytest

from flows.engine.figures import Kind
from flows.report import schema_doc
from flows.report.figure_paths import report_figure

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_field_has_a_kind_and_a_meaning():
    undocumented = [key for key, _, _, kind, meaning in schema_doc.rows() if not kind or not meaning]
    assert not undocumented, undocumented


def test_the_readme_holds_the_generated_schema():
    assert schema_doc.with_table(README.read_text()) == README.read_text(), \
        "run: python -m flows.report.schema_doc --write README.md"


def test_a_report_figure_knows_its_kind_and_a_misspelt_one_fails():
    assert report_figure(lambda r: r.energy.logic_nj_per_inference).kind is Kind.MEASURED
    # A total with a modelled part (the SRAM macros' accesses) is a modelled figure.
    assert report_figure(lambda r: r.energy.nj_per_inference).kind is Kind.MODELLED
    assert report_figure(lambda r: r.area.total_um2).kind is Kind.MODELLED
    assert report_figure(lambda r: r.energy.sram_macro_nj_per_inference).kind is Kind.MODELLED
    assert report_figure(lambda r: r.scaled_estimate.nodes["28nm"].area_mm2).kind is Kind.ESTIMATED
    with pytest.raises(ValueError, match="PowerMetrics has no field 'nj_per_image'"):
        report_figure(lambda r: r.energy.nj_per_image)
