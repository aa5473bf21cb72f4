"""mmagic's ``DataPreprocessor`` for batches drawn from several datasets or pipelines.

mmagic stacks a batch's data samples only when their field *lists* are equal (``DataSample.stack``
asserts it). Those lists come from sets, whose order follows the order the keys were inserted and the
per-process string hash, so two pipelines that give the same fields in a different order (a
``ConcatDataset`` of a fixed-pair and a rendered-weather dataset, say) fail at random, one run in two
or three, with a bare ``AssertionError``. This preprocessor puts every sample's fields in one order
before stacking, and names the fields when the samples really differ.
"""
from typing import List, Sequence

from mmagic.models.data_preprocessors import DataPreprocessor
from mmagic.registry import MODELS
from mmagic.structures import DataSample

from ..datasets.load_checks import MixedSamplesError

__all__ = ['MixedBatchDataPreprocessor', 'align_sample_fields']


def _sample_source(sample: DataSample) -> str:
    """The file a sample came from, for error messages."""
    for key in ('img_path', 'gt_path'):
        if key in sample.metainfo_keys():
            return str(sample.get(key))
    return 'a sample without a file path'


def _reorder(fields: set) -> None:
    """Rebuild ``fields`` in sorted order, in place (the set itself is a read-only attribute)."""
    names = sorted(fields)
    fields.clear()
    fields.update(names)


def align_sample_fields(samples: Sequence[DataSample]) -> List[DataSample]:
    """Give every sample of a batch the same data and metainfo field order, so mmagic can stack them.

    Raises:
        MixedSamplesError: two samples carry different fields; one line naming the fields and both files.
    """
    samples = list(samples)
    if not samples:
        return samples
    first = samples[0]
    for sample in samples[1:]:
        for kind, fields_of in (('data', DataSample.keys), ('metainfo', DataSample.metainfo_keys)):
            fields, first_fields = set(fields_of(sample)), set(fields_of(first))
            if fields != first_fields:
                raise MixedSamplesError(
                    f'one batch mixes samples with different {kind} fields: {_sample_source(sample)} has '
                    f'{sorted(fields - first_fields)} and lacks {sorted(first_fields - fields)} against '
                    f"{_sample_source(first)}; give every dataset's PackInputs the same meta_keys and "
                    'load the same keys')
    for sample in samples:
        _reorder(sample._data_fields)
        _reorder(sample._metainfo_fields)
    return samples


@MODELS.register_module()
class MixedBatchDataPreprocessor(DataPreprocessor):
    """mmagic's ``DataPreprocessor`` that stacks batches mixed from several pipelines.

    Same arguments and outputs as ``mmagic.models.DataPreprocessor``; before stacking it aligns the
    samples' field order (:func:`align_sample_fields`), so a ``ConcatDataset`` of datasets with
    different pipelines trains, and samples with different fields fail with a one-line error naming them.
    """

    def _preprocess_data_sample(self, data_samples: Sequence[DataSample], training: bool) -> DataSample:
        return super()._preprocess_data_sample(align_sample_fields(data_samples), training)
