"""Distillation: the HTA-KL mask and mixing, the KL losses' defining properties, and a student
that learns from a teacher through both paths."""

import pytest
import torch

from model.augmentation import RandomShift
from model.compiled import Readout
from model.datasets import load_dataset
from model.convolution import ConvShape
from model.distillation import (ANNTeacher, DistillationConfig, Distiller, HeadTailAwareKL, OutputKL, forward_kl,
                                train_teacher)
from model.encoding import rate_encode
from model.network import SNNConfig, SpikingNetwork
from model.train import TrainConfig, predict, train


def test_the_head_is_the_classes_that_reach_the_cumulative_mass():
    p = torch.tensor([[0.05, 0.6, 0.3, 0.05], [0.97, 0.01, 0.01, 0.01]])
    head = HeadTailAwareKL(head_mass=0.85).head_mask(p)
    # Row 0: 0.6 then 0.3 reaches 0.85; row 1: 0.97 alone does.
    assert head.tolist() == [[False, True, True, False], [True, False, False, False]]


def test_kl_losses_vanish_on_a_student_equal_to_the_teacher_and_grow_away_from_it():
    teacher = torch.tensor([[4.0, 1.0, 0.0, -1.0], [0.0, 3.0, 0.5, 0.5]])
    for loss in (OutputKL(), HeadTailAwareKL()):
        assert loss(teacher, teacher) == pytest.approx(0.0, abs=1e-6)
        assert loss(teacher * 0.5, teacher) > 0 and loss(-teacher, teacher) > loss(teacher * 0.5, teacher)


def test_hta_kl_weighs_reverse_kl_where_the_tail_is_wrong():
    teacher = torch.tensor([[6.0, 0.0, 0.0, 0.0]])
    right_head_wrong_tail = torch.tensor([[6.0, 3.0, -3.0, 0.0]])
    loss = HeadTailAwareKL(temperature=1.0, head_mass=0.5)
    log_t, log_s = torch.log_softmax(teacher, 1), torch.log_softmax(right_head_wrong_tail, 1)
    fkl, rkl = forward_kl(log_t, log_s), forward_kl(log_s, log_t)
    value = loss(right_head_wrong_tail, teacher)
    # Mixed with weights in [0, 1]: between the two divergences, and not the forward KL alone.
    assert min(fkl, rkl) <= value <= max(fkl, rkl)
    assert value != pytest.approx(float(fkl))


@pytest.mark.parametrize("convolutions, teacher_convolution_shapes, teacher_dense_inputs", [
    ((), [], 64),
    # A convolutional student: the teacher has its convolution, and the decoder reads the dense hidden
    # layer, the one after the convolution.
    ((ConvShape(out_channels=8, kernel=3, stride=2, padding=1),), [(8, 1, 3, 3)], 8 * 4 * 4),
], ids=["dense", "convolutional"])
def test_a_student_learns_digits_from_a_teacher_through_both_paths(convolutions, teacher_convolution_shapes,
                                                                   teacher_dense_inputs):
    data = load_dataset("digits")
    image = (1, 8, 8) if convolutions else None
    config = SNNConfig(sizes=(64, 32, 10), timesteps=6, readout=Readout.MEMBRANE, image=image,
                       convolutions=convolutions)
    teacher, teacher_accuracy = train_teacher(data, student=config, hidden=(64,), epochs=30)
    assert [tuple(c.weight.shape) for c in teacher.convolutions] == teacher_convolution_shapes
    assert teacher.layers[0].in_features == teacher_dense_inputs
    assert teacher_accuracy > 0.9
    student = SpikingNetwork(config=config, seed=0)
    distiller = Distiller(teacher=teacher, config=DistillationConfig(hidden_weight=0.5), student=config)
    assert distiller.student_layer == len(convolutions) and distiller.decoder.in_features == 32
    decoder_before = distiller.decoder.weight.detach().clone()
    history = train(student, data, TrainConfig(epochs=6, seed=0), distiller=distiller)
    assert history[-1].loss < history[0].loss
    assert not torch.equal(distiller.decoder.weight, decoder_before), "the spike decoder trains with the student"
    assert all(not p.requires_grad for p in teacher.parameters()), "the teacher stays frozen"
    spikes = rate_encode(data.test_x, 6, seed=2)
    assert (predict(student, spikes) == data.test_y).mean() > 0.7


def test_the_teacher_learns_the_images_as_the_student_will_see_them_augmented():
    # Digits mirrored left to right: a teacher trained on plain digits labels them far worse than one
    # trained with the student's mirroring, which is what the student's batches hold.
    data = load_dataset("digits")
    student = SNNConfig(sizes=(64, 32, 10), timesteps=6)
    mirrored = torch.tensor(data.test_x).reshape(-1, 8, 8).flip(dims=[2]).reshape(-1, 64)
    mirroring = RandomShift(side=8, pixels=0, mirror=True)
    accuracy_on_mirrored = {}
    for augmentation in (None, mirroring):
        teacher, _ = train_teacher(data, student=student, hidden=(64,), epochs=30, augmentation=augmentation)
        with torch.no_grad():
            predicted = teacher(mirrored)[0].argmax(dim=1).numpy()
        accuracy_on_mirrored[augmentation] = (predicted == data.test_y).mean()
    assert accuracy_on_mirrored[mirroring] > 0.75 and accuracy_on_mirrored[None] < accuracy_on_mirrored[mirroring] - 0.3


def test_the_hidden_path_needs_a_dense_hidden_layer_in_the_student():
    teacher = ANNTeacher(sizes=(64, 16, 10))
    with pytest.raises(ValueError, match="needs a fully connected hidden layer"):
        Distiller(teacher=teacher, config=DistillationConfig(), student=SNNConfig(sizes=(64, 10), timesteps=4))
    output_path_only = Distiller(teacher=teacher, config=DistillationConfig(hidden_weight=0),
                                 student=SNNConfig(sizes=(64, 10), timesteps=4))
    assert output_path_only.decoder is None


def test_a_convolutional_teacher_needs_the_image_its_inputs_make():
    with pytest.raises(ValueError, match="needs the image's"):
        ANNTeacher(sizes=(64, 16, 10), image=(1, 8, 9), convolutions=(ConvShape(out_channels=4, kernel=3),))


def test_bad_distillation_settings_are_refused():
    with pytest.raises(TypeError, match="output_loss must be an OutputLoss object"):
        DistillationConfig(output_loss="hta-kl")
    with pytest.raises(ValueError, match="head_mass must be in"):
        HeadTailAwareKL(head_mass=1.0)
    with pytest.raises(ValueError, match="output_weight must be in"):
        DistillationConfig(output_weight=2.0)
