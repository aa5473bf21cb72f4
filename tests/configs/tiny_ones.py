# A tiny OneS distillation: a dense tiny student learning from a frozen tiny MoE teacher (FFN experts), on
# the tiny paired folder of tiny_restorer.py. The tests pass both checkpoints with --cfg-options
# (the teacher's trained weights; the student's start gathered from them by moe_to_dense.py).
_base_ = ['./tiny_restorer.py']

tiny = dict(embed_dim=32, depth=1, img_size=32, stem_channels=8, head_channels=16)
model = dict(
    type='OneSDistiller',
    generator=dict(experts=None, router=None,
                   init_cfg=dict(type='Pretrained', checkpoint='data/tiny_ones/student_init.pth',
                                 prefix='generator.')),
    teacher=dict(type='MoFMEViT', experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'),
                 num_experts=4, top_k=2, **tiny,
                 init_cfg=dict(type='Pretrained', checkpoint='data/tiny_ones/teacher.pth',
                               prefix='generator.')),
    distill_weights=dict(pixel=1.0, feature=1.0))
