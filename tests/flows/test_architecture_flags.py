"""The core's flags come from CoreArchitecture: its defaults, one flag per field."""

import argparse

from flows.architecture_flags import add_architecture_flags, architecture_from
from flows.run_config import RunConfig
from model.architecture import CoreArchitecture, MemoryStyle, RateEncoder


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_architecture_flags(parser)
    return parser.parse_args(list(argv))


def test_no_flags_give_the_dataclass_defaults():
    assert architecture_from(parse()) == CoreArchitecture(trace=False) == RunConfig().architecture


def test_each_flag_sets_its_field():
    architecture = architecture_from(parse("--lanes", "3", "--encoder-lanes", "4", "--encoder-seed", "9",
                                           "--memories", "sram-macros"))
    assert architecture == CoreArchitecture(lanes=3, trace=False, encoder=RateEncoder(lanes=4, seed=9),
                                            memories=MemoryStyle.SRAM_MACROS)
