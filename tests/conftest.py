import os

# albumentations (imported by mmagic) checks PyPI for updates at import; there is no network here.
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
