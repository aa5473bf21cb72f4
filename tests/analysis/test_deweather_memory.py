"""tools/analysis_tools/deweather_memory.py: peak RSS per backend, each measured in a process of its own."""
import contextlib
import io
import json
import os

import pytest

TINY = 'tests/configs/tiny_restorer.py'
FRAME = ['--height', '64', '--width', '96', '--threads', '1']
#: the tiny config's test tiling, as tools/deweather.py (init_restorer) resolves it, in JSON form
TINY_TILING = dict(mode='slide', crop_size=[32, 32], stride=[16, 16], max_batch=8)
#: what the test process holds while the children run: more than a tiny restorer's process needs
BALLAST_GIB = 1.5


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('analysis_tools/deweather_memory')


def own_peak_gib() -> float:
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmHWM')) / 2**20


@pytest.fixture(scope='module')
def measured(tool, tmp_path_factory):
    """Rows and printed lines of one run over the three backends (the graph exported beforehand), taken
    while this process holds :data:`BALLAST_GIB`."""
    folder = tmp_path_factory.mktemp('memory')
    onnx = tool.export_graph(TINY, str(folder))
    # resident: a child that counted its parent's peak (getrusage's ru_maxrss does, through exec) would
    # report at least this process's peak, above BALLAST_GIB
    ballast = b'\x01' * int(BALLAST_GIB * 2**30)
    parent_peak = own_peak_gib()
    out, stdout = folder / 'rows.json', io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = tool.main(['--config', TINY, '--backends', 'eager', 'fast', 'onnxruntime', '--onnx', onnx,
                            *FRAME, '--out', str(out)])
    del ballast
    return dict(status=status, rows=json.loads(out.read_text()), lines=stdout.getvalue().splitlines(),
                parent_peak=parent_peak)


@pytest.mark.slow
def test_each_backend_in_its_own_process(measured):
    rows = measured['rows']
    assert measured['status'] == 0
    assert [r['backend'] for r in rows] == ['eager', 'fast', 'onnxruntime']
    pids = {r['pid'] for r in rows}
    assert len(pids) == 3 and os.getpid() not in pids
    # the parent's peak is none of the children's: each reports less than the parent's ballast alone
    assert measured['parent_peak'] > BALLAST_GIB
    assert all(r['peak_rss_gib'] < BALLAST_GIB for r in rows), rows


@pytest.mark.slow
def test_numbers_in_a_sane_range_and_printed(measured):
    for row in measured['rows']:
        # the stack (torch, mmengine, the registries) is resident; a 64x96 frame adds little to it
        assert 0.1 < row['rss_loaded_gib'] <= row['peak_before_frame_gib'] <= row['peak_rss_gib'] < 3
        assert 0 <= row['increase_gib'] < 0.5
        assert row['increase_gib'] == pytest.approx(row['peak_rss_gib'] - row['rss_loaded_gib'], abs=2e-3)
    assert [line.split('(')[0].strip() for line in measured['lines']] == ['eager', 'fast', 'onnxruntime']
    assert all('peak RSS' in line and 'with the model loaded' in line for line in measured['lines'])


@pytest.mark.slow
def test_onnxruntime_tiles_as_the_pytorch_backends(measured):
    # tools/deweather.py's tiling: the config's test tiling, at most 8 tiles a call
    assert [r['restore_cfg'] for r in measured['rows']] == [TINY_TILING] * 3


@pytest.mark.slow
def test_modes_and_tiling_flags_reach_the_measured_process(tool, tmp_path, capsys):
    out = tmp_path / 'rows.json'
    assert tool.main(['--config', TINY, '--modes', 'whole', 'slide', '--crop-size', '16', '24',
                      '--max-batch', '2', *FRAME, '--out', str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [(r['backend'], r['mode']) for r in rows] == [('eager', 'whole'), ('eager', 'slide')]
    assert rows[0]['restore_cfg'] == dict(mode='whole')
    # a crop size given alone is also the stride (init_restorer's rule)
    assert rows[1]['restore_cfg'] == dict(mode='slide', crop_size=[16, 24], stride=[16, 24], max_batch=2)
    assert rows[0]['pid'] != rows[1]['pid']


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize('argv, message', [
    (['--config', 'missing/config.py'], 'error: missing/config.py: no such config file'),
    (['--config', TINY, '--backends', 'onnxruntime', '--onnx', 'missing.onnx'],
     'error: missing.onnx: no such ONNX model file'),
    (['--config', TINY, '--backends', 'eager', '--onnx', TINY],
     'error: --onnx is used only with --backends onnxruntime'),
])
def test_bad_paths_are_one_line_errors(tool, capsys, argv, message):
    assert tool.main(argv) == 2
    assert one_error_line(capsys) == message


def test_unknown_backend_is_refused(tool, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tool.main(['--backends', 'tensorrt'])
    assert exit_info.value.code == 2
    assert "invalid choice: 'tensorrt'" in capsys.readouterr().err


@pytest.mark.slow
def test_unloadable_graph_is_a_one_line_failure(tool, tmp_path, capsys):
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'not a graph')
    assert tool.main(['--config', TINY, '--backends', 'onnxruntime', '--onnx', str(bad), *FRAME]) == 1
    assert one_error_line(capsys).startswith(f'onnxruntime (slide): failed: {bad}: not a loadable ONNX model')


@pytest.mark.slow
def test_failed_export_is_a_one_line_failure(tool, tmp_path, capsys):
    config = tmp_path / 'no_restorer.py'
    config.write_text("model = dict(type='Nothing')\n")
    assert tool.main(['--config', str(config), '--backends', 'onnxruntime', *FRAME]) == 1
    line = one_error_line(capsys)
    assert line.startswith('onnxruntime: export failed: ') and 'neither `restorer`' in line, line
