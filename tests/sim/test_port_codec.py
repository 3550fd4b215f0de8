import numpy as np

from model.architecture import CoreArchitecture
from network_factory import NetworkSpec, random_network, random_spikes
from sim.port_codec import PortCodec


def test_event_stream_lists_spikes_ascending_then_an_end_marker_per_timestep():
    net = random_network(NetworkSpec(sizes=(9, 4), timesteps=3))
    codec = PortCodec(net, CoreArchitecture(lanes=2))
    spikes = random_spikes(net, images=4, rate=0.3, seed=5)
    spikes[1, 1] = False  # an empty timestep still gets its marker
    entries, first = codec.event_stream(spikes)
    expected, starts = [], []
    for image in spikes:
        starts.append(len(expected))
        for frame in image:
            expected += [codec.event(index=int(i)) for i in np.flatnonzero(frame)]
            expected.append(codec.event(end_of_step=True))
    assert entries.tolist() == expected
    assert first.tolist() == starts
