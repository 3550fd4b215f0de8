"""RandomShift moves each image as a whole, by at most its pixels, and only while training."""

import pytest
import torch

from model.augmentation import RandomShift


def test_each_image_moves_as_a_whole_within_the_limit():
    side, pixels = 8, 2
    images = torch.zeros(50, side, side)
    images[:, 3, 4] = 1.0  # one bright pixel away from the border: it is never cut off
    images[:, 4, 3] = 0.5
    shifted = RandomShift(side=side, pixels=pixels)(images.reshape(50, -1), torch.Generator().manual_seed(0))
    shifted = shifted.reshape(50, side, side)
    moves = set()
    for image in shifted:
        (y, x), = (image == 1.0).nonzero().tolist()
        assert abs(y - 3) <= pixels and abs(x - 4) <= pixels
        assert image[y + 1, x - 1] == 0.5, "the rest of the image moved with it"
        assert image.sum() == 1.5
        moves.add((y - 3, x - 4))
    assert len(moves) > 10, "the shifts differ between images"


def test_the_same_generator_state_gives_the_same_shifts():
    x = torch.rand(4, 36)
    shift = RandomShift(side=6, pixels=1)
    assert torch.equal(shift(x, torch.Generator().manual_seed(3)), shift(x, torch.Generator().manual_seed(3)))


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="does not fit"):
        RandomShift(side=4, pixels=4)
    with pytest.raises(ValueError, match=r"RandomShift takes \(batch, 784\)"):
        RandomShift(side=28)(torch.zeros(2, 64), torch.Generator())


def test_mirror_flips_about_half_of_the_images():
    side = 6
    images = torch.zeros(400, side, side)
    images[:, 2, 0] = 1.0  # a pixel on the left edge: mirrored, it lands on the right edge
    out = RandomShift(side=side, pixels=0, mirror=True)(images.reshape(400, -1), torch.Generator().manual_seed(1))
    out = out.reshape(400, side, side)
    right = int(out[:, 2, side - 1].sum())
    assert 150 < right < 250 and int(out[:, 2, 0].sum()) == 400 - right
