# Table 5's ViT on CIFAR-10 (32x32, patch 4: 64 patch tokens + a class token), mmpretrain's classifier with
# the MoFME project's transformer blocks. Trained from scratch (the paper fine-tunes an ImageNet-pretrained
# model it does not release). Data: the CIFAR-10 python release, nothing is downloaded:
#   data/cifar10/cifar-10-batches-py/{data_batch_1..5, test_batch}   (another path: see the README)
#   python tools/train.py configs/classification/vit_cifar10-32.py
_base_ = ['mmpretrain::_base_/datasets/cifar10_bs16.py', 'mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmofme.mmpretrain'], allow_failed_imports=False)

# No `experts` key: None, a dense FFN in every block (the MoE configs set it and `moe_blocks`).
model = dict(
    type='MoEImageClassifier',
    backbone=dict(type='MoEVisionTransformer', embed_dim=384, depth=4, num_heads=8, head_dim=64,
                  mlp_ratio=8.0, dropout=0.1, patch_size=4, img_size=32),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=384,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    aux_loss_weights=dict(loss_lb=1e-2, loss_uc=5e-3))  # the restorer's λ1, λ2 (zero for the dense ViT)

data_root = 'data/cifar10'
cifar10 = dict(type='CIFAR10Folder', data_root=data_root, verify_md5=True)
train_dataloader = dict(batch_size=128, num_workers=4, dataset=dict(**cifar10, split='train'))
val_dataloader = dict(batch_size=256, num_workers=4, dataset=dict(**cifar10, split='test'))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, betas=(0.9, 0.999)),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=195, eta_min=1e-5, by_epoch=True, begin=5, end=200),
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='accuracy/top1'))
# a fixed seed: a run is reproducible (mmengine draws a random one otherwise)
randomness = dict(seed=42)
