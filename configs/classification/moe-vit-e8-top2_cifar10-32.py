# Table 5's MoE-ViT: the ViT with 8 FFN experts (top-2 router) in every other block (blocks 1 and 3).
_base_ = ['./vit_cifar10-32.py']
model = dict(backbone=dict(experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'), num_experts=8,
                           top_k=2, moe_blocks=[1, 3]))
