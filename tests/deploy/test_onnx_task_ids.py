"""Task-gated restorers (MMoE, M³ViT) export with a ``task_id`` input: onnxruntime (CPU) equals PyTorch to
1e-4 per task and for mixed tasks in one batch, at sizes and batches other than the traced example's; the
graph stays sparse; bad ids are one-line errors; ``--no-task-ids`` keeps the gates'-mean graph; and
``tools/deweather.py --task`` serves both backends alike."""
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import torch

from mmmofme.apis import restore
from mmmofme.deploy import OnnxRestorer, RestorerGraph, dynamic_example, expert_node_count, export_onnx
from mmmofme.deploy.onnx_export import TASK_INPUT, TASKS_KEY
from mmmofme.models import MoFMEViT
from mmmofme.models.archs import variant

pytestmark = pytest.mark.slow  # each export takes seconds

TOL = 1e-4
TASKS = 3
WEATHERS = ['rain+fog', 'snow', 'raindrop']  # tiny_weather_restorer.py's, in task-id order
#: sizes and batches other than the example's: odd sizes (padding), the position table's grid, one patch row
SHAPES = [(3, 37, 45), (1, 32, 32), (2, 8, 24)]
BASE_CONFIG = Path(__file__).resolve().parents[1] / 'configs' / 'tiny_weather_restorer.py'


def weather_config(folder: Path, name: str, generator: str) -> str:
    """A config on tiny_weather_restorer.py (3 weather tasks) whose generator is updated by ``generator``."""
    path = folder / f'{name}.py'
    path.write_text(f"_base_ = ['{BASE_CONFIG}']\nmodel = dict(generator={generator})\n")
    return str(path)


@pytest.fixture(scope='module')
def mmoe(tmp_path_factory, tool_export):
    """``(config, model, checkpoint, task-id graph, --no-task-ids graph)``, both graphs from the tool, of
    a tiny MMoE: FFN experts (E=4, k=2) behind a plain top-k router with 3 task gates."""
    folder = tmp_path_factory.mktemp('mmoe')
    config = weather_config(folder, 'tiny_mmoe', "dict(experts=dict(type='FFNExperts'), "
                                                 "router=dict(_delete_=True, type='TopKRouter'))")
    model, checkpoint, path = tool_export(folder, config, name='tasks')
    untagged = tool_export(folder, config, '--no-task-ids', name='untagged')[2]
    return config, model, checkpoint, path, untagged


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


@torch.no_grad()
def test_task_id_graph_equals_pytorch_per_task_and_for_mixed_tasks(mmoe):
    _, model, _, path, _ = mmoe
    session = OnnxRestorer(path)
    for b, h, w in SHAPES:
        images = torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(h))
        per_task = []
        for task in range(TASKS):
            ids = torch.full((b, ), task)
            per_task.append(session(images, ids))
            assert max_diff(per_task[-1], model(images, ids)) <= TOL, (b, h, w, task)
        mixed = (torch.arange(b) + 1) % TASKS
        got = session(images, mixed)
        assert max_diff(got, model(images, mixed)) <= TOL, (b, h, w, mixed.tolist())
        for i, task in enumerate(mixed.tolist()):  # each image routed by its own task's gate
            assert max_diff(got[i], per_task[task][i]) <= TOL
        assert max_diff(per_task[0], per_task[1]) > 1e-3  # the ids steer the routing


def test_task_id_graph_is_sparse_with_one_id_per_image(mmoe):
    _, _, _, path, _ = mmoe
    assert expert_node_count(path) == 4  # one NonZero per expert: no all-experts fallback
    proto = onnx.load(path, load_external_data=False)
    image, task = proto.graph.input
    image_dims = [d.dim_param for d in image.type.tensor_type.shape.dim]
    assert [bool(d) for d in image_dims] == [True, False, True, True]  # B, 3, H, W
    assert task.name == TASK_INPUT and task.type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param for d in task.type.tensor_type.shape.dim] == image_dims[:1]  # the same batch
    assert {p.key: p.value for p in proto.metadata_props}[TASKS_KEY] == str(TASKS)
    assert OnnxRestorer(path).num_tasks == TASKS


@torch.no_grad()
def test_no_task_ids_graph_is_the_gates_mean(mmoe):
    _, model, _, _, path = mmoe
    proto = onnx.load(path, load_external_data=False)
    assert [i.name for i in proto.graph.input] == ['image']
    assert TASKS_KEY not in {p.key for p in proto.metadata_props}
    assert expert_node_count(path) == 4
    session = OnnxRestorer(path)
    images = torch.rand(2, 3, 37, 45, generator=torch.Generator().manual_seed(0))
    assert session.num_tasks == 1
    assert max_diff(session(images), model(images)) <= TOL
    # like a single-task PyTorch restorer, a graph without task ids ignores them
    assert torch.equal(session(images, torch.tensor([0, 2])), session(images))


def test_bad_task_ids_are_one_line_errors_naming_the_model(mmoe):
    _, _, _, path, _ = mmoe
    session = OnnxRestorer(path)
    images = torch.rand(2, 3, 16, 16)
    cases = [(None, 'the graph takes task ids (num_tasks=3): pass task_ids, one per image'),
             ([0, 3], 'task_ids must be in [0, num_tasks=3), got [0, 3]'),
             ([-1, 0], 'task_ids must be in [0, num_tasks=3), got [-1, 0]'),
             ([1], 'task_ids must hold one task per sample (2), got 1')]
    for ids, message in cases:
        with pytest.raises(ValueError) as err:
            session(images, ids)
        text = str(err.value)
        assert text.startswith(f'{path}: ') and message in text and '\n' not in text, text


@pytest.mark.parametrize('name, tasks', [('mmoe', 3), ('m3vit', 3), ('m3vit-fme-uar', 3), ('mowe', 1),
                                         ('mofme', 1)])
def test_graphs_take_task_ids_where_the_router_gates_by_task(name, tasks):
    """MoWE's router reads the tags only for its training loss: like its PyTorch forward, no ids."""
    model = MoFMEViT.tiny(**variant(name)).eval()
    graph = RestorerGraph(model)
    assert graph.num_tasks == tasks
    assert graph.input_names == (['image', TASK_INPUT] if tasks > 1 else ['image'])
    assert RestorerGraph(model, task_ids=False).input_names == ['image']


@pytest.mark.parametrize('name, tasks', [('m3vit', 3), ('mowe', 1)])
@torch.no_grad()
def test_other_tag_using_baselines_export_faithfully(tmp_path, name, tasks):
    """M³ViT's task gates take the ids as MMoE's do; MoWE's graph has none and, as PyTorch, ignores them."""
    torch.manual_seed(0)
    model = MoFMEViT.tiny(**variant(name)).eval()
    path = str(tmp_path / f'{name}.onnx')
    export_onnx(RestorerGraph(model), dynamic_example(model), path, 'restored', optimize=False)
    session = OnnxRestorer(path)
    assert session.num_tasks == tasks and expert_node_count(path) == 4
    images = torch.rand(3, 3, 37, 45, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([2, 0, 1])
    assert max_diff(session(images, ids), model(images, ids)) <= TOL


def read(path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image.astype(int)


def test_deweather_task_by_name_or_id_on_both_backends(mmoe, tmp_path, load_tool):
    config, model, checkpoint, path, _ = mmoe
    (tmp_path / 'in').mkdir()
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'in' / 'a.png'), image)
    tool = load_tool('deweather')
    runs = {'pt_snow': ['--checkpoint', checkpoint, '--task', 'snow'],
            'ort_1': ['--backend', 'onnxruntime', '--model', path, '--task', '1'],
            'pt_untagged': ['--checkpoint', checkpoint]}
    for out, extra in runs.items():
        argv = [str(tmp_path / 'in'), '--config', config, '--out', str(tmp_path / out)] + extra
        assert tool.main(argv) == 0
    outputs = {out: read(tmp_path / out / 'a.png') for out in runs}
    assert np.array_equal(outputs['pt_snow'], restore(model, image, task_id=WEATHERS.index('snow')))
    assert np.abs(outputs['pt_snow'] - outputs['ort_1']).max() <= 1  # same tiling, one grey level
    assert np.abs(outputs['pt_snow'] - outputs['pt_untagged']).max() > 1  # not the gates' mean


def test_deweather_task_errors_are_one_line(mmoe, tmp_path, load_tool, capsys):
    config, _, checkpoint, path, untagged = mmoe
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    tool = load_tool('deweather')
    ort = ['--backend', 'onnxruntime', '--model']
    cases = [(ort + [path], f'{path}: the graph takes task ids (3 tasks): give --task (or export it with '
                            f'--no-task-ids)'),
             (ort + [path, '--task', 'fog'], f"--task fog: give the config's task weathers {WEATHERS} or a "
                                             f'task id in [0, 3)'),
             (['--checkpoint', checkpoint, '--task', '3'], '--task 3: give the config'),
             (ort + [untagged, '--task', '0'], '--task 0: the restorer has no task gates')]
    for extra, message in cases:
        argv = [str(tmp_path / 'a.png'), '--config', config, '--out', str(tmp_path / 'o')] + extra
        assert tool.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f'error: {message}') and '\n' not in err, err
    assert not (tmp_path / 'o').exists()


def test_untagged_export_of_a_router_refusing_untagged_images_is_a_one_line_error(tmp_path, load_tool,
                                                                                   capsys):
    config = weather_config(tmp_path, 'm3vit_error', "dict(router=dict(_delete_=True, "
                                                     "type='TaskConditionedRouter', untagged='error'))")
    out = tmp_path / 'm3vit.onnx'
    tool = load_tool('deployment/pytorch2onnx')
    assert tool.main([config, 'none', '--out', str(out), '--no-task-ids']) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: {out}: TaskConditionedRouter: no weather tag') and '\n' not in err, err
    assert not list(tmp_path.glob('*.onnx*'))
