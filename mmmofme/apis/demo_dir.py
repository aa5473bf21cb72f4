"""The models a demo run left behind (``make demo``'s work dir), for the analysis tools' ``--demo-dir``."""
import json
from pathlib import Path
from typing import Dict, Tuple, Union

from mmengine.config import Config

__all__ = ['demo_models', 'demo_blend']


def demo_models(demo_dir: Path, names: Tuple[str, ...] = ('restorer', 'segmentor', 'detector')
                ) -> Dict[str, Tuple[str, str]]:
    """``{name: (config, latest checkpoint)}`` of a demo work dir; fails naming the missing file."""
    found = {}
    for name in names:
        cfg = Path(demo_dir) / name / f'{name}_demo.py'
        ckpts = sorted((Path(demo_dir) / name).glob('iter_*.pth'), key=lambda p: int(p.stem.split('_')[1]))
        if not cfg.is_file():
            raise FileNotFoundError(f'{cfg}: missing (run the demo first: make demo)')
        if not ckpts:
            raise FileNotFoundError(f'{Path(demo_dir) / name}/iter_*.pth: no checkpoint (run the demo first: '
                                    'make demo)')
        found[name] = (str(cfg), str(ckpts[-1]))
    return found


def demo_blend(demo_dir: Path, restorer_cfg: str) -> Union[str, Config]:
    """The restorer config with the confidence range and frame gate the demo's calibration chose (the blend
    the demo evaluates), or the config path as it is when the demo dir has no calibration."""
    from ..evaluation.confidence_calibration import describe, set_confidence_range
    calibration = Path(demo_dir) / 'calibration' / 'confidence_calibration.json'
    if not calibration.is_file():
        return restorer_cfg
    try:
        chosen = json.loads(calibration.read_text())
        blend = dict(range=chosen['range'], frame_gate=chosen['frame_gate'])
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f'{calibration}: not a calibration result ({type(err).__name__}: {err})') from None
    print(f'the demo\'s calibrated blend: {describe(blend)} ({calibration})')
    return set_confidence_range(Config.fromfile(restorer_cfg), blend['range'], blend['frame_gate'])
