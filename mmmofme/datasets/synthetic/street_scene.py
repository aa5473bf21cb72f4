"""Procedural street scenes in perspective with exact labels, instances and metric distance.

A pinhole camera (focal length 1.1 x width, as Cityscapes' 2262 px over 2048 px) stands
``camera_height`` metres above a flat street running along +Z. The ground (road with lane marks,
sidewalks, grass strips), the building facades along both sides (vertical planes ``X = const``), an
optional cross building closing the street, and low walls / fences are rendered per pixel from that
geometry; objects (cars as boxes, persons, riders on bicycles, poles with traffic signs / lights,
trees) are drawn as metric shapes projected at their distance, far to near (painter's order).

Every pixel gets its Cityscapes trainId (``label``), its Cityscapes instanceId (``labelId`` for stuff,
``labelId * 1000 + k`` for instance ``k`` of the 8 instance classes) and its distance from the camera
centre along the viewing ray in metres (``distance``; the sky and anything past ``MAX_DISTANCE`` is
clipped there). Objects are large and coloured per class with some texture so that small segmentation
and detection models learn them from a few hundred frames.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

from ..cityscapes_labels import CLASSES, IGNORE_INDEX, LABEL_ID, TRAIN_ID

__all__ = ['MAX_DISTANCE', 'Camera', 'SceneRender', 'render_street_scene']

MAX_DISTANCE = 600.0  # metres; sky / far clip (fog with beta=0.02 leaves exp(-12) of the sky)
EGO_VEHICLE_LABEL_ID = 1  # Cityscapes 'ego vehicle' (trainId 255)

T = TRAIN_ID  # short alias for the painting code
_LABEL_NAMES = {lid: name for name, lid in LABEL_ID.items()}


@dataclass
class Camera:
    """Pinhole camera over a flat ground plane (Y up, Z forward, X right; metres, pixels).

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        focal: Focal length in pixels.
        cx: Principal point column.
        cy: Horizon row (principal point row; the camera looks horizontally).
        elevation: Camera height above the ground in metres.
    """

    width: int
    height: int
    focal: float
    cx: float
    cy: float
    elevation: float

    def u(self, x, z):
        """Image column of lateral position ``x`` at depth ``z``."""
        return self.cx + self.focal * np.asarray(x) / np.asarray(z)

    def v(self, y, z):
        """Image row of height ``y`` above the ground at depth ``z``."""
        return self.cy + self.focal * (self.elevation - np.asarray(y)) / np.asarray(z)

    def scale(self, z) -> float:
        """Pixels per metre at depth ``z``."""
        return self.focal / z

    def ray_factor(self) -> np.ndarray:
        """Distance over depth for each pixel: ``sqrt(1 + ((u - cx)^2 + (v - cy)^2) / f^2)``."""
        uu = (np.arange(self.width, dtype=np.float32) + 0.5 - self.cx) / self.focal
        vv = (np.arange(self.height, dtype=np.float32) + 0.5 - self.cy) / self.focal
        return np.sqrt(1.0 + uu[None, :] ** 2 + vv[:, None] ** 2)


@dataclass
class SceneRender:
    """A rendered scene.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB.
        label: ``(H, W)`` uint8 Cityscapes trainIds (255 = ignore).
        instance: ``(H, W)`` int32 Cityscapes instanceIds.
        distance: ``(H, W)`` float32 metres from the camera centre, clipped to :data:`MAX_DISTANCE`.
        camera: The camera used.
        objects: ``(Cityscapes label name, full silhouette mask)`` of every drawn object part (car,
            person, rider, bicycle, pole, traffic sign / light, tree, ego vehicle) in painter's order (far
            to near), one entry per instance: the polygons of a gtFine json, drawn in this order over the
            background, reproduce the visible layout.
    """

    image: np.ndarray
    label: np.ndarray
    instance: np.ndarray
    distance: np.ndarray
    camera: Camera
    objects: List[Tuple[str, np.ndarray]] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Palettes (RGB). Distinct per class so that small models separate them; texture added on top.
# ----------------------------------------------------------------------------------------------
_BUILDING_COLOURS = [(150, 140, 125), (170, 110, 90), (120, 120, 125), (185, 175, 150), (140, 100, 80),
                     (105, 105, 95)]
_CAR_COLOURS = [(180, 30, 30), (30, 60, 160), (220, 220, 220), (35, 35, 40), (160, 165, 170), (30, 110, 60),
                (200, 150, 30), (90, 30, 110)]
_SHIRT_COLOURS = [(200, 40, 40), (40, 90, 200), (240, 200, 40), (230, 230, 230), (40, 160, 80),
                  (220, 110, 30), (150, 50, 160)]
_PANTS_COLOURS = [(40, 40, 60), (30, 50, 100), (70, 60, 50), (20, 20, 20)]
_SKIN_COLOURS = [(240, 200, 170), (200, 150, 110), (140, 95, 65)]


class _Canvas:
    """Image / label / instance / depth buffers with a painter's-order ``paint``."""

    def __init__(self, cam: Camera, rng: np.random.Generator):
        h, w = cam.height, cam.width
        self.cam = cam
        self.rng = rng
        self.image = np.zeros((h, w, 3), np.float32)
        self.label = np.full((h, w), IGNORE_INDEX, np.uint8)
        self.instance = np.zeros((h, w), np.int32)
        self.depth = np.full((h, w), MAX_DISTANCE, np.float32)
        # Two noise fields shared by all surfaces: fine grain and blotches (cheap texture).
        # (the grain is slightly correlated, like sensor noise after demosaicing; it also keeps PNGs smaller)
        self.fine = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.8) * 1.6
        self.coarse = _smooth_noise(rng, h, w, max(4, w // 24))
        self.mask = np.zeros((h, w), np.uint8)  # scratch for cv2 drawing
        self.counts: Dict[str, int] = {}
        self.objects: List[Tuple[str, np.ndarray]] = []
        # silhouettes of the parts of the object being drawn, by (trainId, instanceId)
        self._parts: Optional[Dict[Tuple[int, int], np.ndarray]] = None

    def new_instance(self, name: str) -> int:
        """Next Cityscapes instanceId for class ``name`` (``labelId * 1000 + k``)."""
        k = self.counts.get(name, 0)
        self.counts[name] = k + 1
        return LABEL_ID[name] * 1000 + k

    def begin_object(self) -> None:
        """Start recording what an object paints (its parts' full, unoccluded silhouettes)."""
        self._parts = {}

    def end_object(self) -> None:
        """Append the recorded parts to :attr:`objects` in the order they were first painted."""
        for (train_id, iid), mask in self._parts.items():
            if not mask.any():
                continue  # out of view
            name = _LABEL_NAMES[iid // 1000] if iid >= 1000 else (
                'ego vehicle' if train_id == IGNORE_INDEX else CLASSES[train_id])
            self.objects.append((name, mask))
        self._parts = None

    def paint(self, mask: np.ndarray, colour, train_id: int, instance_id: int, depth,
              fine: float = 6.0, coarse: float = 10.0, region=np.s_[:, :]) -> None:
        """Overwrite the masked pixels with a textured colour, label, instance id and depth.

        ``mask`` (and ``depth`` when it is an array) index the sub-image ``region`` (default: all).
        """
        col = np.asarray(colour, np.float32)
        if col.ndim == 1:
            col = col[None, :]
        tex = fine * self.fine[region][mask] + coarse * self.coarse[region][mask]
        self.image[region][mask] = col + tex[:, None]
        self.label[region][mask] = train_id
        self.instance[region][mask] = instance_id
        self.depth[region][mask] = depth[mask] if isinstance(depth, np.ndarray) else depth
        if self._parts is not None:
            part = self._parts.setdefault((train_id, instance_id), np.zeros(self.label.shape, bool))
            part[region] |= mask

    def shape_mask(self, draw: Callable[[np.ndarray], None]) -> np.ndarray:
        """Boolean mask of what ``draw(scratch)`` paints with value 1 on a cleared scratch image."""
        self.mask[:] = 0
        draw(self.mask)
        return self.mask.astype(bool)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Zero-mean, unit-ish low-frequency noise: random values on a coarse grid, bicubically upsampled."""
    small = rng.standard_normal((h // cell + 2, w // cell + 2)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _pt(cam: Camera, x: float, y: float, z: float) -> Tuple[int, int]:
    """Pixel (col, row) of a 3D point, rounded for cv2 (shift-free integer drawing)."""
    return int(round(float(cam.u(x, z)))), int(round(float(cam.v(y, z))))


def _quad(cam: Camera, pts3d) -> np.ndarray:
    return np.array([_pt(cam, *p) for p in pts3d], np.int32)


# ----------------------------------------------------------------------------------------------
# Layout of the street (metres)
# ----------------------------------------------------------------------------------------------
@dataclass
class _Street:
    road_left: float
    road_right: float
    walk_left: float
    walk_right: float
    grass_left: float
    grass_right: float
    lane_width: float
    end: float  # depth of the cross building closing the street (MAX_DISTANCE: none)

    @property
    def facade_left(self) -> float:
        return self.road_left - self.walk_left - self.grass_left

    @property
    def facade_right(self) -> float:
        return self.road_right + self.walk_right + self.grass_right


def _sample_street(rng: np.random.Generator) -> _Street:
    lane = rng.uniform(3.0, 3.6)
    lanes_left = int(rng.integers(1, 3))
    return _Street(road_left=-lane * (lanes_left + 0.5), road_right=lane * 0.5 + rng.uniform(0.2, 2.5),
                   walk_left=rng.uniform(2.5, 4.5), walk_right=rng.uniform(2.5, 4.5),
                   grass_left=rng.uniform(0.0, 3.0) * (rng.random() < 0.5),
                   grass_right=rng.uniform(0.0, 3.0) * (rng.random() < 0.5), lane_width=lane,
                   end=rng.uniform(90.0, 260.0) if rng.random() < 0.7 else MAX_DISTANCE)


# ----------------------------------------------------------------------------------------------
# Per-pixel background: sky, ground, facades, far building, walls and fences
# ----------------------------------------------------------------------------------------------
def _paint_sky(cv: _Canvas) -> None:
    cam = cv.cam
    rows = np.arange(cam.height, dtype=np.float32)[:, None]
    t = np.clip(rows / max(cam.cy, 1.0), 0, 1)  # 0 at the top, 1 at the horizon
    top = np.array(cv.rng.uniform([40, 90, 160], [80, 130, 210]), np.float32)
    bottom = np.array(cv.rng.uniform([150, 180, 205], [200, 215, 235]), np.float32)
    grad = top + (bottom - top) * t[..., None]
    clouds = np.clip(cv.coarse, 0, None)[..., None] * cv.rng.uniform(10, 35)
    cv.image[:] = np.broadcast_to(grad, cv.image.shape) + clouds
    cv.label[:] = T['sky']
    cv.instance[:] = LABEL_ID['sky']
    cv.depth[:] = MAX_DISTANCE


def _paint_ground(cv: _Canvas, st: _Street) -> None:
    cam = cv.cam
    v = np.arange(cam.height, dtype=np.float32) + 0.5
    below = v > cam.cy + 0.5
    rows = np.nonzero(below)[0]
    if rows.size == 0:
        return
    z = cam.focal * cam.elevation / (v[rows] - cam.cy)  # (R,)
    u = np.arange(cam.width, dtype=np.float32) + 0.5
    x = (u[None, :] - cam.cx) * z[:, None] / cam.focal  # (R, W)
    zz = np.broadcast_to(z[:, None], x.shape)
    visible = zz < min(st.end, MAX_DISTANCE)
    road = (x >= st.road_left) & (x <= st.road_right)
    walk = ((x >= st.road_left - st.walk_left) & (x < st.road_left)) | \
           ((x > st.road_right) & (x <= st.road_right + st.walk_right))
    grass = ~road & ~walk
    full = lambda m: _rows_mask(cam, rows, m & visible)  # noqa: E731
    depth = np.zeros((cam.height, cam.width), np.float32)
    depth[rows] = zz

    # Road: asphalt with lane marks (dashed between lanes, solid at the edges).
    asphalt = cv.rng.uniform(70, 100)
    cv.paint(full(road), (asphalt, asphalt, asphalt + 4), T['road'], LABEL_ID['road'], depth, fine=5,
             coarse=6)
    marks = np.zeros_like(road)
    for lx in np.arange(st.road_left + st.lane_width, st.road_right - 1.0, st.lane_width):
        marks |= (np.abs(x - lx) < 0.08) & ((zz % 9.0) < 3.0)
    marks |= (np.abs(x - (st.road_left + 0.3)) < 0.08) | (np.abs(x - (st.road_right - 0.3)) < 0.08)
    m = full(marks & road)
    cv.image[m] = (225.0, 225.0, 215.0)

    # Sidewalk: light paving with a joint grid every 0.6 m, kerb stone at the road edge.
    paving = np.array(cv.rng.uniform([150, 140, 130], [185, 175, 165]), np.float32)
    cv.paint(full(walk), paving, T['sidewalk'], LABEL_ID['sidewalk'], depth, fine=4, coarse=6)
    joints = walk & ((np.abs((x % 0.6) - 0.3) > 0.27) | (np.abs((zz % 0.6) - 0.3) > 0.27))
    cv.image[full(joints)] -= 35.0

    grass_col = np.array(cv.rng.uniform([110, 150, 60], [140, 185, 90]), np.float32)
    cv.paint(full(grass), grass_col, T['terrain'], LABEL_ID['terrain'], depth, fine=12, coarse=14)


def _rows_mask(cam: Camera, rows: np.ndarray, sub: np.ndarray) -> np.ndarray:
    mask = np.zeros((cam.height, cam.width), bool)
    mask[rows] = sub
    return mask


def _side_plane(cam: Camera, x: float, z0: float, z1: float, y0: float, y1: float):
    """Pixels of the vertical plane ``X = x`` between depths z0..z1 and heights y0..y1.

    Returns:
        ``(region, mask, zmap, ymap)`` restricted to the plane's columns ``region`` (a slice of the
        image): the covered pixels, the depth Z (along the street) and height Y of each pixel on the
        plane; or None when the plane is out of view.
    """
    u = np.arange(cam.width, dtype=np.float32) + 0.5
    du = u - cam.cx
    with np.errstate(divide='ignore', invalid='ignore'):
        z = cam.focal * x / du
    cols = np.nonzero((z >= z0) & (z <= z1) & np.isfinite(z))[0]  # contiguous: z is monotonic in u per side
    if cols.size == 0:
        return None
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    zc = z[c0:c1]
    v = np.arange(cam.height, dtype=np.float32)[:, None] + 0.5
    ymap = cam.elevation - (v - cam.cy) * zc[None, :] / cam.focal  # (H, C)
    mask = (ymap >= y0) & (ymap <= y1)
    if not mask.any():
        return None
    return np.s_[:, c0:c1], mask, np.broadcast_to(zc[None, :], mask.shape), ymap


def _paint_facades(cv: _Canvas, st: _Street) -> None:
    """Building blocks (windows on a 3 m grid) and tree rows along both sides, up to the street end."""
    rng = cv.rng
    for side_x in (st.facade_left, st.facade_right):
        z = 0.5
        while z < min(st.end, MAX_DISTANCE):
            length = rng.uniform(12, 40)
            z_end = min(z + length, st.end)
            if rng.random() < 0.18:  # a tree row instead of a building
                hit = _side_plane(cv.cam, side_x, z, z_end, 0.0, rng.uniform(5, 9))
                if hit is not None:
                    region, mask, zmap, _ = hit
                    col = rng.uniform([50, 90, 30], [80, 125, 55])
                    cv.paint(mask, col, T['vegetation'], LABEL_ID['vegetation'], zmap, fine=14, coarse=22,
                             region=region)
            else:
                _paint_building(cv, side_x, z, z_end, rng.uniform(8, 26))
            z = z_end
    if st.end < MAX_DISTANCE:
        _paint_far_building(cv, st)


def _paint_building(cv: _Canvas, side_x: float, z0: float, z1: float, height: float) -> None:
    rng = cv.rng
    hit = _side_plane(cv.cam, side_x, z0, z1, 0.0, height)
    if hit is None:
        return
    region, mask, zmap, ymap = hit
    base = np.array(_BUILDING_COLOURS[rng.integers(len(_BUILDING_COLOURS))], np.float32)
    base += rng.uniform(-12, 12, 3)
    cv.paint(mask, base, T['building'], LABEL_ID['building'], zmap, fine=5, coarse=8, region=region)
    sx, sy = rng.uniform(2.4, 3.4), rng.uniform(2.9, 3.4)
    wz, wy = (zmap - z0) % sx, ymap % sy
    windows = mask & (wz > 0.6) & (wz < sx - 0.6) & (wy > 0.9) & (wy < sy - 0.5) & (ymap > 3.5) & \
        (ymap < height - 0.8)
    glass = np.array(rng.uniform([40, 50, 60], [80, 95, 110]), np.float32)
    image = cv.image[region]
    image[windows] = glass + 25 * cv.coarse[region][windows, None]
    shop = mask & (ymap > 0.3) & (ymap < 2.8) & ((zmap - z0) % 7.0 > 1.0) & ((zmap - z0) % 7.0 < 5.5)
    image[shop] = glass * 0.7


def _paint_far_building(cv: _Canvas, st: _Street) -> None:
    """The block closing the street: a front-facing facade at depth ``st.end``."""
    cam, rng = cv.cam, cv.rng
    height = rng.uniform(12, 35)
    x0, x1 = _pt(cam, st.facade_left, 0, st.end)[0], _pt(cam, st.facade_right, 0, st.end)[0]
    top, bottom = _pt(cam, 0, height, st.end)[1], _pt(cam, 0, 0, st.end)[1]
    mask = np.zeros((cam.height, cam.width), bool)
    mask[max(top, 0):max(bottom, 0), max(x0, 0):max(x1, 0)] = True
    base = np.array(_BUILDING_COLOURS[rng.integers(len(_BUILDING_COLOURS))], np.float32)
    cv.paint(mask, base, T['building'], LABEL_ID['building'], st.end, fine=4, coarse=6)


def _paint_low_walls(cv: _Canvas, st: _Street) -> None:
    """Walls (solid) and fences (lattice) along the outer edge of the sidewalks."""
    rng = cv.rng
    for side_x in (st.road_left - st.walk_left, st.road_right + st.walk_right):
        for _ in range(int(rng.integers(0, 3))):
            z0 = rng.uniform(4, 60)
            z1 = z0 + rng.uniform(6, 25)
            is_fence = rng.random() < 0.5
            top = rng.uniform(1.0, 2.0)
            hit = _side_plane(cv.cam, side_x, z0, z1, 0.0, top)
            if hit is None:
                continue
            region, mask, zmap, ymap = hit
            if is_fence:  # a metal lattice: only the bars belong to the fence
                bars = mask & (((zmap - z0) % 0.5 < 0.12) | (ymap % 0.6 < 0.1) | (ymap > top - 0.1))
                col = rng.uniform([90, 70, 50], [130, 110, 80])
                cv.paint(bars, col, T['fence'], LABEL_ID['fence'], zmap, fine=4, coarse=4, region=region)
            else:
                col = rng.uniform([170, 160, 140], [200, 190, 170])
                cv.paint(mask, col, T['wall'], LABEL_ID['wall'], zmap, fine=6, coarse=10, region=region)


# ----------------------------------------------------------------------------------------------
# Objects (drawn far to near). Shapes are given in metres on the plane at their depth z.
# ----------------------------------------------------------------------------------------------
@dataclass
class _Object:
    z: float
    draw: Callable[[_Canvas], None]


def _px(cam: Camera, metres: float, z: float) -> int:
    """A length in metres at depth z, in whole pixels (at least 1)."""
    return max(1, int(round(metres * cam.scale(z))))


def _rect(cv: _Canvas, x0: float, y0: float, x1: float, y1: float, z: float) -> np.ndarray:
    """Mask of the rectangle [x0, x1] x [y0, y1] (metres) on the plane at depth z."""
    return cv.shape_mask(lambda m: cv2.rectangle(m, _pt(cv.cam, x0, y1, z), _pt(cv.cam, x1, y0, z), 1, -1))


def _poly(cv: _Canvas, pts3d) -> np.ndarray:
    """Mask of a filled polygon with 3D vertices (x, y, z)."""
    return cv.shape_mask(lambda m: cv2.fillPoly(m, [_quad(cv.cam, pts3d)], 1))


def _disc(cv: _Canvas, x: float, y: float, r: float, z: float, ring: Optional[float] = None) -> np.ndarray:
    """Mask of a disc of radius r (or a ring ``ring`` metres thick) centred at (x, y) on the plane z."""
    thickness = -1 if ring is None else _px(cv.cam, ring, z)
    return cv.shape_mask(lambda m: cv2.circle(m, _pt(cv.cam, x, y, z), _px(cv.cam, r, z), 1, thickness))


def _segment(cv: _Canvas, a: Tuple[float, float], b: Tuple[float, float], width: float,
             z: float) -> np.ndarray:
    """Mask of a thick line from a to b (metres) on the plane z."""
    cam = cv.cam
    return cv.shape_mask(lambda m: cv2.line(m, _pt(cam, *a, z), _pt(cam, *b, z), 1, _px(cam, width, z)))


def _car(x: float, z: float, length: float, width: float, colour, oncoming: bool) -> _Object:
    """A car as a box: its near face (rear, or front when oncoming) and the side facing the camera."""
    col = np.asarray(colour, np.float32)
    hw = width / 2
    sill, body, roof = 0.3, 1.0, 1.5  # heights in metres

    def draw_side(cv: _Canvas, iid: int, sx: float) -> None:  # recedes from z to z + length
        zb = z + length
        side = _poly(cv, [(sx, sill, z), (sx, sill, zb), (sx, body, zb), (sx, roof, zb - 1.0),
                          (sx, roof, z + 1.2), (sx, body, z)])
        cv.paint(side, col * 0.8, T['car'], iid, z + length / 2, fine=3, coarse=5)
        win = _poly(cv, [(sx, body + 0.05, z + 0.5), (sx, body + 0.05, zb - 0.5), (sx, roof - 0.08, zb - 1.1),
                         (sx, roof - 0.08, z + 1.3)])
        cv.image[win] = (45, 55, 65)
        for wz in (z + 0.8, zb - 0.8):  # wheels seen obliquely: foreshortened ellipses
            cam = cv.cam
            rx = max(1, int(round(abs(float(cam.u(sx, wz + 0.33) - cam.u(sx, wz - 0.33))) / 2)))
            wheel = cv.shape_mask(lambda m, wz=wz, rx=rx: cv2.ellipse(
                m, _pt(cam, sx, 0.33, wz), (rx, _px(cam, 0.33, wz)), 0, 0, 360, 1, -1))
            cv.paint(wheel, (20, 20, 22), T['car'], iid, wz, fine=2, coarse=0)

    def draw(cv: _Canvas) -> None:
        iid = cv.new_instance('car')
        if abs(x) > hw:
            draw_side(cv, iid, x - hw if x > 0 else x + hw)
        # Near face: body, narrower cabin with the window, wheels below, lights and plate.
        wheels = _rect(cv, x - hw + 0.15, 0.0, x - hw + 0.35, sill + 0.02, z)
        wheels |= _rect(cv, x + hw - 0.35, 0.0, x + hw - 0.15, sill + 0.02, z)
        face = wheels | _poly(cv, [(x - hw, sill, z), (x + hw, sill, z), (x + hw, body, z),
                                   (x + hw - 0.2, roof, z), (x - hw + 0.2, roof, z), (x - hw, body, z)])
        cv.paint(face, col, T['car'], iid, z, fine=3, coarse=5)
        cv.image[wheels] = (20, 20, 22)
        glass = _poly(cv, [(x - hw + 0.2, body + 0.05, z), (x + hw - 0.2, body + 0.05, z),
                           (x + hw - 0.32, roof - 0.07, z), (x - hw + 0.32, roof - 0.07, z)])
        cv.image[glass] = (40, 50, 60)
        for lx in (x - hw + 0.1, x + hw - 0.35):
            cv.image[_rect(cv, lx, 0.7, lx + 0.25, 0.85, z)] = (250, 245, 210) if oncoming else (210, 20, 20)
        cv.image[_rect(cv, x - 0.25, 0.43, x + 0.25, 0.55, z)] = (235, 235, 235)  # number plate

    return _Object(z, draw)


def _person(x: float, z: float, height: float, rng: np.random.Generator) -> _Object:
    look = _clothes(rng)
    stride = rng.uniform(-0.12, 0.12)

    def draw(cv: _Canvas) -> None:
        _draw_human(cv, x, z, height, 0.0, look, stride, T['person'], cv.new_instance('person'))

    return _Object(z, draw)


def _clothes(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shirt, pants, skin) colours."""
    pick = lambda colours: np.array(colours[rng.integers(len(colours))], np.float32)  # noqa: E731
    return pick(_SHIRT_COLOURS), pick(_PANTS_COLOURS), pick(_SKIN_COLOURS)


def _draw_human(cv: _Canvas, x: float, z: float, h: float, base: float, look, stride: float, train_id: int,
                iid: int, legs: bool = True) -> None:
    """Legs, torso with arms and a head of a human ``h`` metres tall standing at height ``base``."""
    shirt, pants, skin = look
    hip, shoulder, head_c = base + 0.47 * h, base + 0.82 * h, base + 0.91 * h
    if legs:
        for lx in (x - 0.13 + stride, x + 0.02 - stride):
            cv.paint(_rect(cv, lx, base, lx + 0.12, hip, z), pants, train_id, iid, z, fine=4, coarse=4)
    torso = _poly(cv, [(x - 0.17, hip - 0.05, z), (x + 0.17, hip - 0.05, z), (x + 0.21, shoulder, z),
                       (x - 0.21, shoulder, z)])
    for ax in (x - 0.29, x + 0.21):
        torso |= _rect(cv, ax, hip + 0.02, ax + 0.08, shoulder - 0.02, z)
    cv.paint(torso, shirt, train_id, iid, z, fine=5, coarse=6)
    head = _disc(cv, x, head_c, 0.09 * h, z)
    cv.paint(head, skin, train_id, iid, z, fine=3, coarse=2)
    hair = head & (np.arange(cv.cam.height)[:, None] < cv.cam.v(head_c + 0.03 * h, z))
    cv.image[hair] = (50, 35, 25)


def _rider(x: float, z: float, rng: np.random.Generator) -> _Object:
    """A cyclist seen from the side: bicycle (instance of 'bicycle') and rider (instance of 'rider')."""
    look = _clothes(rng)
    frame_col = np.array(rng.uniform([20, 20, 20], [120, 60, 60]), np.float32)
    f = 1 if rng.random() < 0.5 else -1  # facing right or left
    back, front, wheel_r = x - 0.55 * f, x + 0.55 * f, 0.34
    seat, bar, crank = (x - 0.2 * f, 0.95), (x + 0.42 * f, 1.05), (x, 0.38)
    head_tube = (front - 0.05 * f, 0.9)

    def draw(cv: _Canvas) -> None:
        bid = cv.new_instance('bicycle')
        bike = _disc(cv, back, wheel_r, wheel_r, z, ring=0.07)
        bike |= _disc(cv, front, wheel_r, wheel_r, z, ring=0.07)
        for a, b in (((back, wheel_r), crank), (crank, seat), (crank, head_tube), ((back, wheel_r), seat),
                     (seat, head_tube), ((front, wheel_r), bar)):
            bike |= _segment(cv, a, b, 0.07, z)
        cv.paint(bike, frame_col, T['bicycle'], bid, z, fine=3, coarse=2)
        rid = cv.new_instance('rider')
        knee = (x + 0.1 * f, 0.6)
        legs = _segment(cv, seat, knee, 0.13, z) | _segment(cv, knee, (x, 0.3), 0.13, z)
        cv.paint(legs, look[1], T['rider'], rid, z, fine=3, coarse=2)
        # Upper body of a seated 1.3 m human whose hips rest on the saddle.
        _draw_human(cv, seat[0] + 0.1 * f, z, 1.3, seat[1] - 0.47 * 1.3 + 0.05, look, 0.0, T['rider'], rid,
                    legs=False)
        cv.paint(_segment(cv, (seat[0] + 0.1 * f, 1.45), bar, 0.08, z), look[0], T['rider'], rid, z, fine=3,
                 coarse=2)

    return _Object(z, draw)


def _pole(x: float, z: float, rng: np.random.Generator) -> _Object:
    """A pole, optionally carrying a traffic sign or a traffic light (stuff classes: no instance)."""
    height = rng.uniform(3.5, 7.0)
    kind = rng.choice(['plain', 'sign', 'light'], p=[0.3, 0.4, 0.3])
    sign_shape = rng.integers(3)
    lit = rng.integers(3)

    def draw(cv: _Canvas) -> None:
        pole = _rect(cv, x - 0.09, 0.0, x + 0.09, height, z)
        cv.paint(pole, (130, 130, 135), T['pole'], LABEL_ID['pole'], z, fine=3, coarse=3)
        zf = z - 0.05  # the sign / light hangs in front of its pole
        if kind == 'sign':
            cy, r = min(height, 3.0) - 0.4, 0.38
            if sign_shape == 0:  # round prohibitory sign: red ring, white inside
                sign, colour = _disc(cv, x, cy, r, z), (200, 30, 30)
            elif sign_shape == 1:  # warning triangle
                sign = _poly(cv, [(x - r, cy - r, z), (x + r, cy - r, z), (x, cy + r, z)])
                colour = (230, 200, 30)
            else:  # blue information panel
                sign, colour = _rect(cv, x - r, cy - r, x + r, cy + r, z), (30, 70, 180)
            cv.paint(sign, colour, T['traffic sign'], LABEL_ID['traffic sign'], zf, fine=3, coarse=2)
            if sign_shape == 0:
                cv.image[_disc(cv, x, cy, 0.7 * r, z)] = (235, 235, 235)
        elif kind == 'light':
            top = min(height, 4.0)
            box = _rect(cv, x - 0.2, top - 1.0, x + 0.2, top, z)
            cv.paint(box, (35, 35, 30), T['traffic light'], LABEL_ID['traffic light'], zf, fine=2, coarse=2)
            colours = [(230, 30, 30), (240, 180, 20), (30, 210, 80)]
            for i in range(3):
                cv.image[_disc(cv, x, top - 0.2 - 0.3 * i, 0.1, z)] = colours[i] if i == lit else (70, 70, 60)

    return _Object(z, draw)


def _tree(x: float, z: float, rng: np.random.Generator) -> _Object:
    trunk_h = rng.uniform(2.0, 3.2)
    blobs = [(x + rng.uniform(-1.2, 1.2), trunk_h + rng.uniform(0.8, 2.8), rng.uniform(0.9, 1.8))
             for _ in range(int(rng.integers(4, 8)))]
    green = np.array(rng.uniform([40, 100, 30], [90, 150, 60]), np.float32)

    def draw(cv: _Canvas) -> None:
        trunk = _rect(cv, x - 0.15, 0.0, x + 0.15, trunk_h + 0.5, z)
        cv.paint(trunk, (95, 70, 45), T['vegetation'], LABEL_ID['vegetation'], z, fine=5, coarse=5)
        crown = np.zeros_like(trunk)
        for bx, by, br in blobs:
            crown |= _disc(cv, bx, by, br, z)
        cv.paint(crown, green, T['vegetation'], LABEL_ID['vegetation'], z, fine=18, coarse=25)

    return _Object(z, draw)


def _sample_objects(st: _Street, rng: np.random.Generator) -> List[_Object]:
    objs: List[_Object] = []
    far = min(st.end - 5, 60.0)
    # Cars: per lane, spaced along the street; oncoming on the lanes left of the camera lane.
    lanes = np.arange(st.road_left + st.lane_width / 2, st.road_right - 1.0, st.lane_width)
    for lane_x in lanes:
        z = rng.uniform(6.0, 14.0) + 3.0 * abs(lane_x) / st.lane_width  # side lanes: not right beside us
        while z < min(far, 45.0):
            if rng.random() < 0.6:
                objs.append(_car(lane_x + rng.uniform(-0.3, 0.3), z, rng.uniform(4.0, 4.8),
                                 rng.uniform(1.7, 1.95), _CAR_COLOURS[rng.integers(len(_CAR_COLOURS))],
                                 oncoming=lane_x < -st.lane_width / 2))
            z += rng.uniform(9.0, 20.0)
    # Parked cars along the right kerb.
    z = rng.uniform(5.0, 12.0)
    while z < 40.0 and st.road_right > st.lane_width / 2 + 1.5:
        if rng.random() < 0.5:
            objs.append(_car(st.road_right - 1.0, z, rng.uniform(4.0, 4.6), rng.uniform(1.7, 1.9),
                             _CAR_COLOURS[rng.integers(len(_CAR_COLOURS))], oncoming=False))
        z += rng.uniform(6.0, 12.0)
    # Pedestrians on the sidewalks, a few crossing.
    for _ in range(int(rng.integers(1, 6))):
        left = rng.random() < 0.5
        xs = (st.road_left - rng.uniform(0.6, st.walk_left - 0.4)) if left else \
            (st.road_right + rng.uniform(0.6, st.walk_right - 0.4))
        objs.append(_person(xs, rng.uniform(5.0, 24.0), rng.uniform(1.6, 1.9), rng))
    if rng.random() < 0.3:
        objs.append(_person(rng.uniform(st.road_left + 1, st.road_right - 1), rng.uniform(6.0, 16.0),
                            rng.uniform(1.6, 1.9), rng))
    for _ in range(int(rng.integers(0, 3))):
        objs.append(_rider(rng.uniform(st.road_left + 1.0, st.road_right - 0.8), rng.uniform(6.0, 22.0), rng))
    # Street furniture and trees near the kerbs.
    for _ in range(int(rng.integers(2, 6))):
        left = rng.random() < 0.5
        xs = st.road_left - 0.4 if left else st.road_right + 0.4
        objs.append(_pole(xs, rng.uniform(5.0, 50.0), rng))
    for _ in range(int(rng.integers(1, 6))):
        left = rng.random() < 0.5
        xs = (st.road_left - st.walk_left + 0.8) if left else (st.road_right + st.walk_right - 0.8)
        objs.append(_tree(xs, rng.uniform(6.0, 60.0), rng))
    return objs


def _paint_ego_vehicle(cv: _Canvas) -> None:
    """The bonnet at the bottom, labelled 'ego vehicle' (ignored, trainId 255) as in Cityscapes."""
    cam = cv.cam
    w, h = cam.width, cam.height
    rise = cv.rng.uniform(0.05, 0.09) * h
    cols = np.arange(w, dtype=np.float32)
    top = h - rise * (1 - ((cols - w / 2) / (w / 2)) ** 2) - 0.02 * h
    mask = np.arange(h, dtype=np.float32)[:, None] >= top[None, :]
    cv.paint(mask, (30, 32, 38), IGNORE_INDEX, EGO_VEHICLE_LABEL_ID, 1.5, fine=2, coarse=8)


def render_street_scene(width: int, height: int, rng: np.random.Generator,
                        ego_vehicle: bool = True) -> SceneRender:
    """Render one random street scene.

    Args:
        width: Image width in pixels.
        height: Image height in pixels.
        rng: Random generator (the scene is a pure function of its state).
        ego_vehicle: Draw the ignored bonnet at the bottom, as in Cityscapes.

    Returns:
        The image, trainId labels, instanceIds, metric distance and camera.
    """
    cam = Camera(width, height, focal=1.1 * width, cx=width / 2 + rng.uniform(-0.02, 0.02) * width,
                 cy=height * rng.uniform(0.40, 0.47), elevation=rng.uniform(1.3, 1.6))
    cv = _Canvas(cam, rng)
    st = _sample_street(rng)
    _paint_sky(cv)
    _paint_ground(cv, st)
    _paint_facades(cv, st)
    _paint_low_walls(cv, st)
    for obj in sorted(_sample_objects(st, rng), key=lambda o: -o.z):
        cv.begin_object()
        obj.draw(cv)
        cv.end_object()
    if ego_vehicle:
        cv.begin_object()
        _paint_ego_vehicle(cv)
        cv.end_object()
    # Global exposure / white balance of this "camera", then quantise.
    gain = rng.uniform(0.85, 1.1) * rng.uniform(0.95, 1.05, 3)
    image = np.clip(cv.image * gain.astype(np.float32), 0, 255).round().astype(np.uint8)
    distance = np.minimum(cv.depth * cam.ray_factor(), MAX_DISTANCE).astype(np.float32)
    return SceneRender(image, cv.label, cv.instance, distance, cam, cv.objects)

