# mofme_synthetic.py with a learned per-pixel confidence that blends the restoration with the input
# (out = x + c * (restored - x)), supervised by where the weathered input differs from the clean target:
# clean frames and the clean parts of a frame (most of a lens-drop frame) pass through unchanged.
#   python tools/train.py configs/synthetic/mofme-conf_synthetic.py
_base_ = ['./mofme_synthetic.py']

model = dict(generator=dict(confidence_head=True), confidence_loss=dict(weight=0.1, threshold=4 / 255))
