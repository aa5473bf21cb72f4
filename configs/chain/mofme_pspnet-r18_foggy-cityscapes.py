# MoFME in front of mmseg's PSPNet-R18 Cityscapes config, evaluated on Foggy Cityscapes val at the
# densest fog (beta = 0.02, as usually reported). See mofme_pspnet-r18_raincityscapes.py for the weights.
_base_ = './mofme_pspnet-r18_raincityscapes.py'
val_dataloader = dict(dataset=dict(layout='foggycityscapes', weathers=['fog'], betas=[0.02]))
test_dataloader = val_dataloader
