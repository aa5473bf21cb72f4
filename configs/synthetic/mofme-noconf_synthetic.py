# mofme_synthetic.py without the learned confidence blend: the plain restoration (the ablation of the
# fall-back to the input; docs/transfer.md).
#   python tools/train.py configs/synthetic/mofme-noconf_synthetic.py
_base_ = ['./mofme_synthetic.py']

model = dict(generator=dict(confidence_head=False, frame_gate=None))
