"""Build mmdet's Cityscapes instance annotations from gtFine (no cityscapesscripts needed).

Writes ``{out_dir}/instancesonly_filtered_gtFine_{split}.json`` (default ``out_dir`` =
``{cityscapes_root}/annotations``) for the 8 instance classes (person, rider, car, truck, bus, train,
motorcycle, bicycle; category id = Cityscapes labelId). Instance masks are the *visible* regions:
``*_gtFine_polygons.json`` is rasterised in file order exactly like ``json2instanceImg`` (later objects
occlude earlier ones; ``...group`` labels are crowds and left out), or ``*_gtFine_instanceIds.png`` is
read with ``--source instanceIds``. Every frame becomes an image, ``file_name`` =
``{city}/{frame}_leftImg8bit.png`` relative to ``leftImg8bit/{split}/``. Weathered variants
(RainCityscapes, Foggy Cityscapes) need no json of their own: the mmmofme datasets map them to their frame.

Example::

    python tools/dataset_converters/cityscapes_to_coco.py data/cityscapes --splits train val --nproc 8
"""
import argparse
import json
import os
import os.path as osp

from mmmofme.datasets.cityscapes_annotations import gtfine_to_coco


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('cityscapes_root', help='folder holding gtFine/')
    p.add_argument('--splits', nargs='+', default=['train', 'val'])
    p.add_argument('--out-dir', default=None, help='default: {cityscapes_root}/annotations')
    p.add_argument('--source', choices=['polygons', 'instanceIds'], default='polygons')
    p.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(args.cityscapes_root, 'annotations')
    os.makedirs(out_dir, exist_ok=True)
    for split in args.splits:
        coco = gtfine_to_coco(args.cityscapes_root, split, args.source, args.nproc)
        path = osp.join(out_dir, f'instancesonly_filtered_gtFine_{split}.json')
        with open(path, 'w') as f:
            json.dump(coco, f)
        print(f'{split}: {len(coco["images"])} images, {len(coco["annotations"])} instances -> {path}')


if __name__ == '__main__':
    main()
