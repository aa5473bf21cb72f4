# OneS (Xue et al. 2022): the dense ViT student distilled from the frozen MoE-16 top-4 teacher
# (moe-e16-top4_rain-haze-cityscapes-256.py). 1) train the teacher; 2) gather its experts into the
# student's start:
#   python tools/model_converters/moe_to_dense.py TEACHER.pth \
#       checkpoints/ones-init_rain-haze-cityscapes-256.pth
# 3) train this config (paths of both checkpoints below, or --cfg-options
#    model.teacher.init_cfg.checkpoint=... model.generator.init_cfg.checkpoint=...).
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/rain_haze_cityscapes.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
teacher_checkpoint = 'checkpoints/moe-e16-top4_rain-haze-cityscapes-256.pth'
student_init = 'checkpoints/ones-init_rain-haze-cityscapes-256.pth'
model = dict(
    type='OneSDistiller',
    generator=dict(experts=None, router=None, img_size=256,
                   init_cfg=dict(type='Pretrained', checkpoint=student_init, prefix='generator.')),
    teacher=dict(type='MoFMEViT', experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'),
                 num_experts=16, top_k=4, embed_dim=384, depth=2, patch_size=8, img_size=256,
                 init_cfg=dict(type='Pretrained', checkpoint=teacher_checkpoint, prefix='generator.')),
    distill_weights=dict(pixel=1.0, feature=1.0),
    test_cfg=dict(crop_size=256))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
