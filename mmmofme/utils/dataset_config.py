"""Dataset configs inside mmengine's dataset wrappers."""
from typing import List, Mapping


def leaf_datasets(dataset: Mapping) -> List[Mapping]:
    """The dataset configs a (possibly wrapped) dataset config reads, in order: ``RepeatDataset`` /
    ``ClassBalancedDataset`` wrap one (``dataset``), ``ConcatDataset`` several (``datasets``); wrappers
    nest. A plain dataset config is its own only leaf. The returned dicts are the config's own, so setting
    a key on them changes the config."""
    if 'datasets' in dataset:
        return [leaf for inner in dataset['datasets'] for leaf in leaf_datasets(inner)]
    if 'dataset' in dataset:
        return leaf_datasets(dataset['dataset'])
    return [dataset]


__all__ = ['leaf_datasets']
