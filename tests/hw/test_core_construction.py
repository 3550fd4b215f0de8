import pytest

from hw.core import SpikingCore
from hw.verilog import core_verilog
from model.architecture import CoreArchitecture
from network_factory import NetworkSpec, random_network


def test_core_needs_a_compiled_network_and_an_architecture():
    net = random_network(NetworkSpec(sizes=(4, 3)))
    with pytest.raises(TypeError, match="network must be a CompiledNetwork"):
        SpikingCore(network="net.npz", architecture=CoreArchitecture())
    with pytest.raises(TypeError, match="architecture must be a CoreArchitecture"):
        SpikingCore(network=net, architecture=8)


@pytest.mark.parametrize("lanes, error", [(0, ValueError), (True, TypeError), (2.0, TypeError)])
def test_lanes_are_checked(lanes, error):
    with pytest.raises(error, match="lanes must be"):
        CoreArchitecture(lanes=lanes)


@pytest.mark.parametrize("trace", [True, False])
def test_verilog_ports_follow_the_stream_signatures(trace):
    text = core_verilog(random_network(NetworkSpec(sizes=(6, 5, 3))), CoreArchitecture(lanes=2, trace=trace))
    header = text[text.index("module spikefab_core"):].split(";", 1)[0]
    for port in ("events_in__valid", "events_in__ready", "events_in__payload", "result__valid", "result__ready",
                 "result__payload"):
        assert port in header
    assert ("trace__payload" in header) == trace
