"""Overlapping tiles with feathered blending: weights sum to one, per-pixel restorers see no tiling."""
import pytest
import torch

from mmmofme.apis.inference import feather_window, tile_plan, tiled_restore


def test_feather_window_ramps_over_the_overlap_and_is_flat_inside():
    window = feather_window(8, 5)  # overlap 3: ramp 1/4, 2/4, 3/4, then 1
    torch.testing.assert_close(window, torch.tensor([.25, .5, .75, 1., 1., .75, .5, .25]))
    assert torch.equal(feather_window(8, 8), torch.ones(8))  # no overlap: nothing to blend


@pytest.mark.parametrize('size, tile, stride', [
    ((40, 56), (16, 16), (16, 16)), ((40, 56), (16, 16), (12, 12)), ((40, 56), (16, 24), (8, 7)),
    ((40, 56), (16, 16), (1, 1)), ((16, 16), (16, 16), (4, 4)), ((37, 61), (16, 32), (15, 9))])
def test_tile_contributions_sum_to_one_at_every_pixel(size, tile, stride):
    boxes, window, coverage = tile_plan(size, tile, stride)
    total = torch.zeros(size)
    for y, x in boxes:
        total[y:y + tile[0], x:x + tile[1]] += window / coverage[y:y + tile[0], x:x + tile[1]]
    torch.testing.assert_close(total, torch.ones(size))
    assert boxes[-1] == (size[0] - tile[0], size[1] - tile[1])


def pixelwise(tiles: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(3 * tiles - 1) * tiles.flip(1)  # per-pixel, mixes channels


@pytest.mark.parametrize('stride', [32, 24, 16, 8, 1])
def test_a_per_pixel_restorer_gives_the_whole_image_result_at_every_overlap(stride):
    img = torch.rand(2, 3, 70, 90)
    out = tiled_restore(pixelwise, img, crop_size=32, stride=stride, max_batch=5)
    torch.testing.assert_close(out, pixelwise(img), atol=1e-6, rtol=1e-5)


def test_overlap_removes_the_seam_of_a_tile_dependent_restorer():
    """A restorer that shifts each tile by its own mean shows seams; feathering smooths the step."""
    img = torch.linspace(0, 1, 96).expand(1, 3, 32, 96).contiguous()

    def per_tile_shift(tiles):
        return tiles - tiles.mean(dim=(1, 2, 3), keepdim=True)

    def max_step(x):
        return (x[..., 1:] - x[..., :-1]).abs().max().item()

    hard = tiled_restore(per_tile_shift, img, crop_size=32, stride=32)
    soft = tiled_restore(per_tile_shift, img, crop_size=32, stride=16)
    assert max_step(hard) > 0.3  # the tile means differ by 1/3: a step at each border
    assert max_step(soft) < 0.05


def test_small_images_are_padded_and_cropped_back():
    img = torch.rand(1, 3, 10, 13)
    out = tiled_restore(pixelwise, img, crop_size=16, stride=8)
    assert out.shape == img.shape
    torch.testing.assert_close(out, pixelwise(img), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize('crop, stride, message', [(16, 20, 'leave gaps'), (0, 1, 'positive')])
def test_bad_tiling_is_a_clear_error(crop, stride, message):
    with pytest.raises(ValueError, match=message):
        tiled_restore(pixelwise, torch.rand(1, 3, 20, 20), crop_size=crop, stride=stride)
