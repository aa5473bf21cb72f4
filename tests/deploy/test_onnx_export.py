"""ONNX export keeps sparse routing: per variant and for the chain, onnxruntime (CPU) equals PyTorch to 1e-4
on [0, 1] images of other sizes than the traced example; the tool's errors are one line."""
import cv2
import numpy as np
import onnx
import pytest
import torch
from mmengine.config import ConfigDict

from mmmofme.deploy import (
    ExportError,
    OnnxRestorer,
    RestorerGraph,
    check_opset,
    dynamic_example,
    expert_node_count,
    export_onnx,
    graph_for,
)
from mmmofme.models import MoFMEViT
from mmmofme.models.archs import variant

pytestmark = pytest.mark.slow  # each export takes seconds

TOL = 1e-4
#: variant → tiny MoFMEViT kwargs; PR-MoE gets two layers so its expert pyramid differs per layer (2, 4)
TINY = {
    'dense': variant('dense'),
    'moe': variant('moe'),
    'mofme': variant('mofme'),
    'mmoe': variant('mmoe'),
    'prmoe': variant('prmoe', depth=2, num_experts=6),
}
#: sizes other than the example's: odd sizes (padding), the position table's own grid, one patch row
PARITY_SHAPES = [(3, 37, 45), (1, 32, 32), (2, 8, 24)]


TINY_CONFIG = 'tests/configs/tiny_restorer.py'  # the tiny MoFME (FME experts, UaR router, E=4, k=2)


@pytest.fixture(scope='module')
def tiny_config_onnx(tmp_path_factory, tool_export):
    """The MoFME variant goes through the tool: config + checkpoint → .onnx; (model, checkpoint, path)."""
    return tool_export(tmp_path_factory.mktemp('tool'), TINY_CONFIG, name='mofme')


@pytest.fixture(scope='module', params=list(TINY))
def exported(request, tmp_path_factory):
    if request.param == 'mofme':
        model, _, path = request.getfixturevalue('tiny_config_onnx')
        return request.param, model, path
    torch.manual_seed(0)
    model = MoFMEViT.tiny(**TINY[request.param]).eval()
    path = str(tmp_path_factory.mktemp('onnx') / f'{request.param}.onnx')
    # unoptimised (faster to write); the MoFME variant goes through the tool's optimised export. MMoE:
    # its graph without task ids (the gates' mean); task-id graphs are tested in test_onnx_task_ids.py
    graph = RestorerGraph(model, task_ids=False)
    export_onnx(graph, dynamic_example(model), path, 'restored', optimize=False)
    return request.param, model, path


def test_onnxruntime_equals_pytorch_at_any_size(exported):
    name, model, path = exported
    session = OnnxRestorer(path)
    for b, h, w in PARITY_SHAPES:
        images = torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(h))
        with torch.no_grad():
            expected = model(images)
        got = session(images)
        assert got.shape == expected.shape
        assert (got - expected).abs().max().item() <= TOL, (name, (b, h, w))


def test_graph_is_sparse_one_selection_per_expert(exported):
    name, model, path = exported
    experts = sum(layer.experts.num_experts for layer in model.moe_layers())
    assert experts == {'dense': 0, 'moe': 4, 'mofme': 4, 'mmoe': 4, 'prmoe': 6}[name]
    assert expert_node_count(path) == experts
    graph = onnx.load(path, load_external_data=False).graph
    dims = graph.input[0].type.tensor_type.shape.dim
    assert [bool(d.dim_param) for d in dims] == [True, False, True, True]  # B, 3, H, W


def tiny_segmentor() -> ConfigDict:
    norm_cfg = dict(type='BN', requires_grad=True)
    return ConfigDict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.7, 116.3, 103.5], std=[58.4, 57.1, 57.4],
                               bgr_to_rgb=True, pad_val=0, seg_pad_val=255),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=4, num_stages=4,
                      out_indices=(2, 3), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm_cfg,
                      contract_dilation=True),
        decode_head=dict(type='FCNHead', in_channels=32, in_index=1, channels=8, num_convs=1,
                         concat_input=False, num_classes=3, norm_cfg=norm_cfg, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def test_chain_exports_as_one_graph(tmp_path):
    from mmmofme.mmseg import DeweatherSegmentor
    torch.manual_seed(0)
    restorer = dict(type='MoFMEViT', **variant('mofme'), num_experts=4, top_k=2, embed_dim=32, depth=1,
                    img_size=32, stem_channels=8, head_channels=16)
    chain = DeweatherSegmentor(restorer=restorer, segmentor=tiny_segmentor(),
                               restore_cfg=dict(mode='slide', crop_size=(32, 32), stride=(32, 24))).eval()
    graph, dynamic = graph_for(chain, chain=True)
    assert not dynamic  # a tiled chain's graph is fixed to one frame size
    path = str(tmp_path / 'chain.onnx')
    export_onnx(graph, torch.rand(2, 3, 32, 56), path, 'seg_logits', dynamic, optimize=False)
    assert expert_node_count(path) == 4  # one restorer call (2 images x 2 tiles <= max_batch 8), sparse
    images = torch.rand(2, 3, 32, 56, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = chain.encode_decode(images, [dict(img_shape=(32, 56))] * 2)
    got = OnnxRestorer(path)(images)
    assert got.shape == (2, 3, 32, 56)
    assert (got - expected).abs().max().item() <= TOL
    chain.restore_cfg['precision'] = 'bf16'  # an fp32 graph is the contract: a bf16 chain is refused
    with pytest.raises(ExportError, match="^--chain exports the fp32 chain: remove restore_cfg precision="):
        graph_for(chain, chain=True)


def test_unsupported_opset_and_bad_model_path_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match=r'^opset 17 is not supported: .* 18\.\.\d+$'):
        check_opset(17)
    with pytest.raises(ValueError, match=r'nope\.onnx: no such ONNX model file$'):
        OnnxRestorer(str(tmp_path / 'nope.onnx'))
    (tmp_path / 'junk.onnx').write_bytes(b'not a graph')
    with pytest.raises(ValueError) as err:
        OnnxRestorer(str(tmp_path / 'junk.onnx'))
    assert str(err.value).startswith(f'{tmp_path / "junk.onnx"}: not a loadable ONNX model')
    assert '\n' not in str(err.value)


def test_tool_errors_are_one_line(tmp_path, load_tool, capsys):
    tool = load_tool('deployment/pytorch2onnx')
    config = TINY_CONFIG
    cases = [([config, str(tmp_path / 'missing.pth')], 'missing.pth: no such checkpoint file'),
             (['nope.py', 'none'], 'nope.py: no such config file'),
             ([config, 'none', '--opset', '99'], 'opset 99 is not supported'),
             ([config, 'none', '--chain'], '--chain needs a chain config')]
    for argv, message in cases:
        assert tool.main(argv + ['--out', str(tmp_path / 'm.onnx')]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith('error: ') and message in err and '\n' not in err, err
    assert not list(tmp_path.glob('*.onnx*'))  # nothing half-written


def test_deweather_onnxruntime_backend_matches_pytorch(tiny_config_onnx, tmp_path, load_tool):
    """Same folder, same tiling (the config's 32-px tiles, stride 16), same PNGs to one grey level."""
    _, checkpoint, onnx_path = tiny_config_onnx
    folder = tmp_path / 'in' / 'sub'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    cv2.imwrite(str(folder / 'a.png'), rng.integers(0, 256, (50, 70, 3), dtype=np.uint8))
    tool = load_tool('deweather')
    common = [str(tmp_path / 'in'), '--config', TINY_CONFIG]
    assert tool.main(common + ['--checkpoint', checkpoint, '--out', str(tmp_path / 'pt')]) == 0
    assert tool.main(common + ['--backend', 'onnxruntime', '--model', onnx_path, '--out',
                               str(tmp_path / 'ort')]) == 0
    pt = cv2.imread(str(tmp_path / 'pt' / 'sub' / 'a.png')).astype(int)
    ort = cv2.imread(str(tmp_path / 'ort' / 'sub' / 'a.png')).astype(int)
    assert pt.shape == ort.shape == (50, 70, 3)
    assert np.abs(pt - ort).max() <= 1


def test_deweather_onnxruntime_errors_are_one_line(tmp_path, load_tool, capsys):
    tool = load_tool('deweather')
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    for extra, message in (([], '--backend onnxruntime needs --model model.onnx'),
                           (['--model', str(tmp_path / 'gone.onnx')], 'gone.onnx: no such ONNX model file')):
        argv = [str(tmp_path / 'a.png'), '--config', TINY_CONFIG, '--out', str(tmp_path / 'o'),
                '--backend', 'onnxruntime'] + extra
        assert tool.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err == f'error: {message}' or (err.startswith('error: ') and err.endswith(message)), err


@pytest.mark.parametrize('name', ['mofme', 'mmoe'])
def test_frame_gated_restorer_exports_tile_outputs_and_gates_whole_frames(tmp_path, name):
    """MMoE: the task-id graph's ``tile_outputs(image, task_id)``, its ids bound per image by TaskRestorer."""
    from mmmofme.apis import TaskRestorer
    from mmmofme.apis.inference import tiled_restore
    from mmmofme.deploy.onnx_export import FRAME_GATE_KEY
    torch.manual_seed(0)
    model = MoFMEViT.tiny(**variant(name), confidence_head=True, image_residual=True,
                          confidence_range=(0.2, 0.8), frame_gate=(0.3, 0.7)).eval()
    with torch.no_grad():  # a non-trivial restoration and confidence (both heads start flat)
        model.tail.body[-1].weight.normal_(std=0.5)
        model.confidence.conv2.weight.normal_(std=2.0)
    path = str(tmp_path / 'gated.onnx')
    export_onnx(RestorerGraph(model), dynamic_example(model), path, 'restored', optimize=False)
    meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    assert meta[FRAME_GATE_KEY] == '0.3,0.7'
    session = OnnxRestorer(path)
    assert session.gates_frames and session.frame_gate == (0.3, 0.7)
    ids = torch.tensor([2, 0]) if name == 'mmoe' else None
    bind = (lambda fn: fn) if ids is None else (lambda fn: TaskRestorer(fn, ids))
    images = torch.rand(2, 3, 40, 56, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for tile, stride in ((40, 40), (32, 24)):  # whole frames, then tiles gated by the whole frame
            expected = tiled_restore(bind(model), images, tile, stride)
            got = tiled_restore(bind(session), images, tile, stride)
            assert (got - expected).abs().max().item() <= TOL, (tile, stride)
        gate = model.gate_frames(images, tiled_restore(bind(model).tile_outputs, images, 32, 24))
        torch.testing.assert_close(gate, tiled_restore(bind(model), images, 32, 24))
        if ids is not None:  # the ids follow their images from box to box
            torch.testing.assert_close(model(images, ids), tiled_restore(bind(model), images, (40, 56)))
            first = tiled_restore(TaskRestorer(model, ids[:1]), images[:1], 32, 24)
            torch.testing.assert_close(first, tiled_restore(bind(model), images, 32, 24)[:1])
