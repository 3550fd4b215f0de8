"""Synthesis to the open liberties: real areas that grow with the lanes and with the feature size,
and a missing liberty named with the package that provides it."""

import pytest

from flows.liberty_library import CellLibrary, LibraryError
from flows.synthesis import synthesize
from hw.verilog import TOP_NAME, write_core_verilog
from model.architecture import CoreArchitecture
from network_factory import NetworkSpec, random_network

NET = random_network(NetworkSpec(sizes=(8, 6, 3), seed=41))


def core_area(tmp_path, *, lanes, library=CellLibrary.OSU018):
    folder = tmp_path / f"{library.value}-lanes{lanes}"
    verilog = write_core_verilog(NET, CoreArchitecture(lanes=lanes), folder / f"{TOP_NAME}.v")
    return synthesize(verilog, top=TOP_NAME, library=library, out_dir=folder).area_um2


def test_area_grows_with_the_lanes(tmp_path):
    one, six = core_area(tmp_path, lanes=1), core_area(tmp_path, lanes=6)
    assert 0 < one < six


def test_area_grows_with_the_feature_size(tmp_path):
    areas = [core_area(tmp_path, lanes=2, library=library) for library in CellLibrary]
    assert 0 < areas[0] < areas[1] < areas[2]  # 0.18, 0.35, 0.5 um


def test_a_missing_liberty_names_its_package(tmp_path, monkeypatch):
    monkeypatch.setattr(CellLibrary, "liberty_path", property(lambda self: tmp_path / "absent.lib"))
    with pytest.raises(LibraryError, match="absent.lib not found: install Debian's qflow-tech-osu035"):
        CellLibrary.OSU035.require()
