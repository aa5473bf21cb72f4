"""Property tests (hypothesis) of the two routines everything else rests on: the tile stitcher and the
sparse expert dispatch."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmofme.apis import tiled_restore
from mmmofme.models.moe.dispatch import group_sizes, sparse_dispatch

PROPERTY = settings(max_examples=40, deadline=None)


class PerPixel(torch.nn.Module):
    """A restorer whose output at a pixel depends on that pixel only (a 1×1 conv, then a nonlinearity):
    tiled restoration must equal whole-image restoration exactly up to float rounding."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.mix = torch.nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.mix(x)) * 2 - x.mean(1, keepdim=True)


@st.composite
def tilings(draw):
    h, w = draw(st.integers(1, 70)), draw(st.integers(1, 70))
    th, tw = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    sh, sw = draw(st.integers(1, th)), draw(st.integers(1, tw))
    return dict(batch=draw(st.integers(1, 2)), channels=draw(st.sampled_from([1, 3, 4])), size=(h, w),
                crop=(th, tw), stride=draw(st.sampled_from([None, (sh, sw)])),
                max_batch=draw(st.integers(1, 9)), seed=draw(st.integers(0, 2 ** 16)))


@PROPERTY
@given(tilings())
def test_tiled_restore_equals_whole_image_for_a_per_pixel_restorer(t):
    torch.manual_seed(t['seed'])
    restorer = PerPixel(t['channels'], 3)
    img = torch.rand(t['batch'], t['channels'], *t['size'])
    calls = []

    def counted(tiles):
        calls.append(tiles.shape[0])
        return restorer(tiles)

    with torch.no_grad():
        out = tiled_restore(counted, img, t['crop'], t['stride'], max_batch=t['max_batch'])
        whole = restorer(img)
    assert out.shape == (t['batch'], 3, *t['size'])
    torch.testing.assert_close(out, whole, rtol=1e-5, atol=1e-5)
    assert max(calls) <= max(t['max_batch'], t['batch'])  # tiles per call bounded (a batch at least)


@st.composite
def routings(draw):
    num_experts = draw(st.integers(1, 6))
    top_k = draw(st.integers(1, num_experts))
    num_tokens = draw(st.integers(0, 30))
    seed = draw(st.integers(0, 2 ** 16))
    generator = torch.Generator().manual_seed(seed)
    # top-k distinct experts per token, as the routers give them
    indices = torch.stack([torch.randperm(num_experts, generator=generator)[:top_k]
                           for _ in range(num_tokens)]) if num_tokens else torch.zeros(0, top_k).long()
    weights = torch.rand(num_tokens, top_k, generator=generator)
    return num_experts, indices, weights, seed


@PROPERTY
@given(routings(), st.integers(1, 5), st.integers(1, 5))
def test_sparse_dispatch_equals_the_per_token_loop(routing, d_in, d_out):
    num_experts, indices, weights, seed = routing
    torch.manual_seed(seed)
    experts = [torch.nn.Linear(d_in, d_out) for _ in range(num_experts)]
    tokens = torch.randn(indices.shape[0], d_in)
    seen_rows = []

    def expert_fn(i, x):
        seen_rows.append(x.shape[0])
        return torch.tanh(experts[i](x))

    with torch.no_grad():
        out = sparse_dispatch(tokens, indices, weights, expert_fn, num_experts)
        reference = torch.zeros(indices.shape[0], d_out)
        for n in range(indices.shape[0]):
            for j in range(indices.shape[1]):
                reference[n] += weights[n, j] * torch.tanh(experts[indices[n, j]](tokens[n:n + 1]))[0]
    assert out.shape == (indices.shape[0], d_out)
    torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-6)
    assert sum(seen_rows) == indices.numel() or indices.numel() == 0
    assert group_sizes(indices, num_experts).sum() == indices.numel()
