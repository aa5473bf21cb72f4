# Domain-randomised weather (mofme-dr_synthetic.py) and the learned confidence blend
# (mofme-conf_synthetic.py) together.
#   python tools/train.py configs/synthetic/mofme-dr-conf_synthetic.py
_base_ = ['./mofme-dr_synthetic.py']

model = dict(generator=dict(confidence_head=True), confidence_loss=dict(weight=0.1, threshold=4 / 255))
