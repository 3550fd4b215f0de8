"""Typed records survive JSON: a cached step's metrics come back as the class that wrote them."""

import math
from dataclasses import dataclass

import pytest

from flows.engine.typed_json import from_jsonable, to_jsonable
from flows.steps.reference import InterfaceBits, ReferenceMetrics


@dataclass(frozen=True, kw_only=True)
class Inner:
    values: tuple[float, ...]
    by_name: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class Outer:
    inner: Inner | None
    interval: tuple[float, float] | None
    label: str | None = None


def test_nested_records_round_trip():
    record = Outer(inner=Inner(values=(1.5, 2.0), by_name={"a": 3}), interval=(0.25, 0.75), label="x")
    assert from_jsonable(Outer, to_jsonable(record, with_type=False)) == record
    assert from_jsonable(Outer, to_jsonable(Outer(inner=None, interval=None), with_type=False)).inner is None


def test_a_step_metrics_class_round_trips_and_nan_becomes_null():
    metrics = ReferenceMetrics(
        images=3, accuracy_quantized_reference=0.5, accuracy_quantized_reference_full_timesteps=0.5,
        agreement_with_torch_quantized=1.0, cycles_per_inference_mean=10.0, cycles_per_inference_p99=12.0,
        cycles_no_stall_floor_mean=8.0, cycles_over_no_stall_floor=1.25, cycles_sop_floor_mean=5.0,
        cycles_over_sop_floor=2.0, sops_per_inference_mean=float("nan"), timesteps_used_mean=4.0,
        spike_rate_per_layer=(0.1, 0.2), input_spike_rate=0.3,
        interface_bits_per_inference=InterfaceBits(events_mean=7.0, on_chip_encoder=64, on_chip_encoder_lanes=8))
    data = to_jsonable(metrics, with_type=False)
    assert data["sops_per_inference_mean"] is None
    back = from_jsonable(ReferenceMetrics, data)
    assert math.isnan(back.sops_per_inference_mean) and back.interface_bits_per_inference.on_chip_encoder == 64
    assert back.spike_rate_per_layer == (0.1, 0.2)


@pytest.mark.parametrize("data, message", [({"inner": None, "interval": [1, "x"]}, "fits none"),
                                           ({"inner": {"values": [1.0], "by_name": {"a": 1.5}}, "interval": None},
                                            "fits none")])
def test_a_record_of_the_wrong_shape_is_refused(data, message):
    with pytest.raises(TypeError, match=message):
        from_jsonable(Outer, data)
