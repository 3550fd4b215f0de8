"""Synthesis to the open liberties: real areas that grow with the lanes and with the feature size,
and a missing liberty named with the package that provides it."""

import pytest

from flows.eda.liberty_library import CellLibrary, LibraryError
from flows.eda.synthesis import synthesize
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


def test_buffering_shortens_the_critical_path(tmp_path):
    from flows.eda.sta_timing import analyse_timing

    net = random_network(NetworkSpec(sizes=(16, 24, 4), seed=42))
    verilog = write_core_verilog(net, CoreArchitecture(lanes=12), tmp_path / f"{TOP_NAME}.v")
    paths, buffers = {}, {}
    for buffering in (False, True):
        folder = tmp_path / f"buffering-{buffering}"
        result = synthesize(verilog, top=TOP_NAME, library=CellLibrary.OSU018, out_dir=folder, buffering=buffering)
        buffers[buffering] = sum(n for cell, n in result.cells.items() if cell.startswith("BUF"))
        paths[buffering] = analyse_timing(result.netlist, top=TOP_NAME, library=CellLibrary.OSU018,
                                          out_dir=folder).critical_path_ns
    assert paths[True] < paths[False] and buffers[True] > buffers[False]
