"""Numba kernels of the camera renderer: a per-pixel ray caster for the ground plane and
the sky, and a z-buffered box rasterizer (a ray-box slab test over each box's projected
bounding rectangle) for vehicles, pedestrians, obstacles and flying distractors.

Array layouts (all float64 unless said otherwise):

    mounts[C, 10]     x, y, z, yaw, pitch, roll, fov_deg, extent, topdown, width
    jitter[C, 7]      dx, dy, dz, dyaw, dpitch, droll, dfov_deg
    cams[C, 14]       position (3), rotation camera->world (9, row-major; columns are
                      the camera's forward, left and up axes), topdown flag, k (radians of
                      tangent per pixel for perspective cameras, metres per pixel for
                      topdown ones)
    distractors[D, 16] centre in the ego frame (3), rotation local->ego (9), half
                      extents (3), material row
    objs[N, 20]       centre (3), rotation world->local (9), half extents (3), class,
                      instance, material row, unused (2)
    lights[L, 8]      kind (0 directional, 1 point), direction towards the light (world,
                      unit) or position (ego frame in, world out), colour x intensity (3),
                      range (point lights: intensity halves at this distance)

A pixel's ray is ``o + t d`` with ``d``'s forward component 1 in the camera frame, so the
ray parameter ``t`` of a hit is its planar depth.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.driving.scene import OBSTACLE, PEDESTRIAN, SKY, TERRAIN, VEHICLE
from sim.driving.textures import SKYGRAD, hash01, texture_mix

NEAR = 0.05  # metres: hits closer than this are ignored (a camera inside a box sees out)
VEHICLE_PAINT_MATERIAL, MODE_FIXED, MODE_RANDOM, MODE_PALETTE = VEHICLE, 0, 1, 2
# Plausible car paints for the canonical style: white, black, silver, grey, red, blue,
# green, beige.
CAR_PAINTS = np.array(
    [
        [0.88, 0.88, 0.86],
        [0.07, 0.07, 0.08],
        [0.62, 0.64, 0.66],
        [0.34, 0.35, 0.36],
        [0.62, 0.06, 0.05],
        [0.08, 0.18, 0.48],
        [0.10, 0.28, 0.16],
        [0.72, 0.66, 0.52],
    ]
)
GLASS = (0.10, 0.12, 0.15)


@njit(cache=True)
def _rot(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rz(yaw) Ry(pitch) Rx(roll): pitch positive turns +x towards -z (looks down)."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    r = np.empty((3, 3))
    r[0, 0] = cy * cp
    r[0, 1] = cy * sp * sr - sy * cr
    r[0, 2] = cy * sp * cr + sy * sr
    r[1, 0] = sy * cp
    r[1, 1] = sy * sp * sr + cy * cr
    r[1, 2] = sy * sp * cr - cy * sr
    r[2, 0] = -sp
    r[2, 1] = cp * sr
    r[2, 2] = cp * cr
    return r


@njit(cache=True)
def frame_setup(
    ego: np.ndarray,
    mounts: np.ndarray,
    jitter: np.ndarray,
    boxes: np.ndarray,
    classes: np.ndarray,
    instances: np.ndarray,
    distractors: np.ndarray,
    distractor_base: int,
    lights_in: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World-frame cameras, objects (scene boxes then distractors) and lights of a frame."""
    ex, ey, eyaw = ego[0], ego[1], ego[2]
    ce, se = math.cos(eyaw), math.sin(eyaw)
    n_cams = mounts.shape[0]
    cams = np.empty((n_cams, 14))
    for i in range(n_cams):
        m = mounts[i]
        j = jitter[i]
        mx, my, mz = m[0] + j[0], m[1] + j[1], m[2] + j[2]
        topdown = m[8] > 0.5
        if topdown:  # straight down; yaw turns the image
            r = _rot(eyaw + m[3] + j[3], 0.5 * math.pi, 0.0)
            k = m[7] / m[9]
        else:
            r = _rot(eyaw + m[3] + j[3], m[4] + j[4], m[5] + j[5])
            fov = min(max(m[6] + j[6], 1.0), 179.0)
            k = math.tan(math.radians(fov) * 0.5) / (0.5 * m[9])
        cams[i, 0] = ex + ce * mx - se * my
        cams[i, 1] = ey + se * mx + ce * my
        cams[i, 2] = max(mz, 0.01)
        for a in range(3):
            for b in range(3):
                cams[i, 3 + 3 * a + b] = r[a, b]
        cams[i, 12] = 1.0 if topdown else 0.0
        cams[i, 13] = k

    n_box = boxes.shape[0]
    n_dis = distractors.shape[0]
    objs = np.zeros((n_box + n_dis, 20))
    for i in range(n_box):
        b = boxes[i]
        cb, sb = math.cos(b[6]), math.sin(b[6])
        objs[i, 0] = b[0]
        objs[i, 1] = b[1]
        objs[i, 2] = b[2] + 0.5 * b[5]
        # world -> local is Rz(-yaw)
        objs[i, 3] = cb
        objs[i, 4] = sb
        objs[i, 6] = -sb
        objs[i, 7] = cb
        objs[i, 11] = 1.0
        objs[i, 12] = 0.5 * b[3]
        objs[i, 13] = 0.5 * b[4]
        objs[i, 14] = 0.5 * b[5]
        objs[i, 15] = classes[i]
        objs[i, 16] = instances[i]
        objs[i, 17] = classes[i]  # material row = class id
    for d in range(n_dis):
        q = distractors[d]
        i = n_box + d
        objs[i, 0] = ex + ce * q[0] - se * q[1]
        objs[i, 1] = ey + se * q[0] + ce * q[1]
        objs[i, 2] = q[2]
        # world rotation Rz(ego yaw) @ L; world -> local is its transpose
        for a in range(3):
            w0 = ce * q[3 + a] - se * q[6 + a]  # column a of Rz @ L, row 0
            w1 = se * q[3 + a] + ce * q[6 + a]
            w2 = q[9 + a]
            objs[i, 3 + 3 * a] = w0
            objs[i, 4 + 3 * a] = w1
            objs[i, 5 + 3 * a] = w2
        objs[i, 12] = q[12]
        objs[i, 13] = q[13]
        objs[i, 14] = q[14]
        objs[i, 15] = OBSTACLE
        objs[i, 16] = distractor_base + d
        objs[i, 17] = q[15]

    lights = lights_in.copy()
    for i in range(lights.shape[0]):
        if lights[i, 0] > 0.5:  # point light: ego frame -> world
            px, py = lights_in[i, 1], lights_in[i, 2]
            lights[i, 1] = ex + ce * px - se * py
            lights[i, 2] = ey + se * px + ce * py
    return cams, objs, lights


@njit(cache=True, inline="always")
def _light(
    nx: float, ny: float, nz: float, px: float, py: float, pz: float,
    lights: np.ndarray, ambient: np.ndarray,
) -> tuple[float, float, float]:  # fmt: skip
    """Lambert irradiance at a point with normal n: ambient plus every light."""
    lr, lg, lb = ambient[0], ambient[1], ambient[2]
    for i in range(lights.shape[0]):
        if lights[i, 0] < 0.5:
            c = nx * lights[i, 1] + ny * lights[i, 2] + nz * lights[i, 3]
            if c <= 0.0:
                continue
        else:
            vx = lights[i, 1] - px
            vy = lights[i, 2] - py
            vz = lights[i, 3] - pz
            d2 = vx * vx + vy * vy + vz * vz + 1e-6
            c = (nx * vx + ny * vy + nz * vz) / math.sqrt(d2)
            if c <= 0.0:
                continue
            r2 = lights[i, 7] * lights[i, 7]
            c *= r2 / (r2 + d2)
        lr += c * lights[i, 4]
        lg += c * lights[i, 5]
        lb += c * lights[i, 6]
    return lr, lg, lb


@njit(cache=True, inline="always")
def _albedo(mats: np.ndarray, m: int, u: float, v: float) -> tuple[float, float, float]:
    t = texture_mix(mats, m, u, v)
    return (
        mats[m, 1] + (mats[m, 4] - mats[m, 1]) * t,
        mats[m, 2] + (mats[m, 5] - mats[m, 2]) * t,
        mats[m, 3] + (mats[m, 6] - mats[m, 3]) * t,
    )


@njit(cache=True, inline="always")
def _slab(o: float, d: float, h: float, tmin: float, tmax: float) -> tuple[float, float, bool]:
    """Clip [tmin, tmax] to one slab |o + t d| <= h; the flag says tmin moved."""
    if abs(d) < 1e-12:
        if abs(o) > h:
            return 1.0, 0.0, False
        return tmin, tmax, False
    inv = 1.0 / d
    t1 = (-h - o) * inv
    t2 = (h - o) * inv
    if t1 > t2:
        t1, t2 = t2, t1
    moved = t1 > tmin
    if moved:
        tmin = t1
    if t2 < tmax:
        tmax = t2
    return tmin, tmax, moved


@njit(cache=True)
def _project_bounds(
    cam: np.ndarray, obj: np.ndarray, height: int, width: int
) -> tuple[int, int, int, int]:
    """Pixel rectangle (r0, r1, c0, c1), inclusive, that holds every pixel whose ray can
    hit the box; r0 > r1 when none can. A box that straddles a perspective camera's
    near plane is clipped by it (its edges' crossings bound the picture too)."""
    px, py, pz = cam[0], cam[1], cam[2]
    topdown = cam[12] > 0.5
    k = cam[13]
    if not topdown:  # a camera inside the box sees none of it (its rays start inside)
        cx, cy, cz = px - obj[0], py - obj[1], pz - obj[2]
        if (
            abs(obj[3] * cx + obj[4] * cy + obj[5] * cz) < obj[12]
            and abs(obj[6] * cx + obj[7] * cy + obj[8] * cz) < obj[13]
            and abs(obj[9] * cx + obj[10] * cy + obj[11] * cz) < obj[14]
        ):
            return 1, 0, 1, 0
    q = np.empty((8, 3))
    for corner in range(8):
        sx = 1.0 if corner & 1 else -1.0
        sy = 1.0 if corner & 2 else -1.0
        sz = 1.0 if corner & 4 else -1.0
        lx, ly, lz = sx * obj[12], sy * obj[13], sz * obj[14]
        # local -> world is the transpose of obj's world -> local rotation
        wx = obj[0] + obj[3] * lx + obj[6] * ly + obj[9] * lz - px
        wy = obj[1] + obj[4] * lx + obj[7] * ly + obj[10] * lz - py
        wz = obj[2] + obj[5] * lx + obj[8] * ly + obj[11] * lz - pz
        q[corner, 0] = cam[3] * wx + cam[6] * wy + cam[9] * wz  # forward
        q[corner, 1] = cam[4] * wx + cam[7] * wy + cam[10] * wz  # left
        q[corner, 2] = cam[5] * wx + cam[8] * wy + cam[11] * wz  # up
    xmin, xmax, ymin, ymax = 1e30, -1e30, 1e30, -1e30
    front = 0
    for corner in range(8):
        qf = q[corner, 0]
        if qf > NEAR:
            front += 1
        elif not topdown:
            continue
        d = k if topdown else qf * k
        x = 0.5 * width - q[corner, 1] / d
        y = 0.5 * height - q[corner, 2] / d
        xmin, xmax = min(xmin, x), max(xmax, x)
        ymin, ymax = min(ymin, y), max(ymax, y)
    if front == 0:
        return 1, 0, 1, 0
    if front < 8 and not topdown:  # the edges' crossings of the near plane
        for a in range(8):
            for bit in (1, 2, 4):
                if a & bit:
                    continue
                b = a | bit
                fa, fb = q[a, 0], q[b, 0]
                if (fa > NEAR) == (fb > NEAR):
                    continue
                t = (NEAR - fa) / (fb - fa)
                ql = q[a, 1] + t * (q[b, 1] - q[a, 1])
                qu = q[a, 2] + t * (q[b, 2] - q[a, 2])
                x = 0.5 * width - ql / (NEAR * k)
                y = 0.5 * height - qu / (NEAR * k)
                xmin, xmax = min(xmin, x), max(xmax, x)
                ymin, ymax = min(ymin, y), max(ymax, y)
    xmin, xmax = max(xmin, -1.0), min(xmax, width + 1.0)
    ymin, ymax = max(ymin, -1.0), min(ymax, height + 1.0)
    r0 = max(int(math.floor(ymin - 0.5)), 0)
    r1 = min(int(math.floor(ymax - 0.5)) + 1, height - 1)
    c0 = max(int(math.floor(xmin - 0.5)), 0)
    c1 = min(int(math.floor(xmax - 0.5)) + 1, width - 1)
    return r0, r1, c0, c1


# Fast-math without the no-inf/no-NaN assumptions: depth holds inf for the sky.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, fastmath=FASTMATH)
def render_view(
    cam: np.ndarray,
    ground: np.ndarray,
    gmeta: np.ndarray,
    objs: np.ndarray,
    mats: np.ndarray,
    lights: np.ndarray,
    ambient: np.ndarray,
    paint: np.ndarray,
    post: np.ndarray,
    seed: int,
    fbuf: np.ndarray,
    tmp: np.ndarray,
    objidx: np.ndarray,
    rgb: np.ndarray,
    labels: np.ndarray,
    depth: np.ndarray,
    inst: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render one camera into rgb, labels, depth and inst; return the boxes, their
    classes, instances and visible fractions (vehicles and pedestrians in view).

    ``gmeta`` is (origin x, origin y, 1 / cell); ``paint`` is (mode, salt) of the
    vehicle paint; ``post`` is (noise std in 0..1 units, blur weight, exposure gain).
    """
    height, width = labels.shape
    rows, cols = ground.shape
    px, py, pz = cam[0], cam[1], cam[2]
    f0, f1, f2 = cam[3], cam[6], cam[9]  # forward axis in world
    l0, l1, l2 = cam[4], cam[7], cam[10]  # left axis
    u0, u1, u2 = cam[5], cam[8], cam[11]  # up axis
    topdown = cam[12] > 0.5
    k = cam[13]
    gox, goy, ginv = gmeta[0], gmeta[1], gmeta[2]
    sky_grad = int(mats[SKY, 0]) == SKYGRAD

    # Pass 1: ground plane and sky, per pixel.
    for r in range(height):
        b = (0.5 * height - r - 0.5) * k
        for c in range(width):
            a = (0.5 * width - c - 0.5) * k
            if topdown:
                ox = px + a * l0 + b * u0
                oy = py + a * l1 + b * u1
                oz = pz + a * l2 + b * u2
                dx, dy, dz = f0, f1, f2
            else:
                ox, oy, oz = px, py, pz
                dx = f0 + a * l0 + b * u0
                dy = f1 + a * l1 + b * u1
                dz = f2 + a * l2 + b * u2
            objidx[r, c] = 0
            inst[r, c] = 0
            if dz < -1e-9 and oz > 0.0:
                t = -oz / dz
                gx = ox + t * dx
                gy = oy + t * dy
                col = int(math.floor((gx - gox) * ginv))
                row = int(math.floor((gy - goy) * ginv))
                cls = TERRAIN
                if 0 <= row < rows and 0 <= col < cols:
                    cls = ground[row, col]
                # far beyond the horizon the texture is noise anyway: keep its lattice
                # coordinates in range
                tx = min(max(gx, -1e6), 1e6)
                ty = min(max(gy, -1e6), 1e6)
                ar, ag, ab = _albedo(mats, cls, tx, ty)
                lr, lg, lb = _light(0.0, 0.0, 1.0, tx, ty, 0.0, lights, ambient)
                fbuf[r, c, 0] = ar * lr
                fbuf[r, c, 1] = ag * lg
                fbuf[r, c, 2] = ab * lb
                labels[r, c] = cls
                depth[r, c] = t
            else:  # sky: emissive, textured on a cloud dome
                inv = 1.0 / math.sqrt(dx * dx + dy * dy + dz * dz)
                ez = max(dz * inv, 0.0)
                su = dx * inv / (ez + 0.3)
                sv = dy * inv / (ez + 0.3)
                if sky_grad:  # horizon colour A to zenith colour B, with clouds
                    t = math.sqrt(ez)
                    cloud = max(texture_mix(mats, SKY, su, sv) - 0.55, 0.0) * 1.6
                    for ch in range(3):
                        base = mats[SKY, 1 + ch] + (mats[SKY, 4 + ch] - mats[SKY, 1 + ch]) * t
                        fbuf[r, c, ch] = base + (0.95 - base) * cloud
                else:
                    ar, ag, ab = _albedo(mats, SKY, su, sv)
                    fbuf[r, c, 0] = ar
                    fbuf[r, c, 1] = ag
                    fbuf[r, c, 2] = ab
                labels[r, c] = SKY
                depth[r, c] = np.inf

    # Pass 2: boxes, z-buffered; count each box's unoccluded coverage and its extent.
    n = objs.shape[0]
    stats = np.zeros((n, 6), np.int64)  # covered, visible, rmin, rmax, cmin, cmax
    for i in range(n):
        obj = objs[i]
        stats[i, 2] = height
        stats[i, 4] = width
        r0, r1, c0, c1 = _project_bounds(cam, obj, height, width)
        if r0 > r1 or c0 > c1:
            continue
        hx, hy, hz = obj[12], obj[13], obj[14]
        # Camera axes and origin in the box frame.
        cx, cy, cz = px - obj[0], py - obj[1], pz - obj[2]
        oxl = obj[3] * cx + obj[4] * cy + obj[5] * cz
        oyl = obj[6] * cx + obj[7] * cy + obj[8] * cz
        ozl = obj[9] * cx + obj[10] * cy + obj[11] * cz
        fx = obj[3] * f0 + obj[4] * f1 + obj[5] * f2
        fy = obj[6] * f0 + obj[7] * f1 + obj[8] * f2
        fz = obj[9] * f0 + obj[10] * f1 + obj[11] * f2
        lx = obj[3] * l0 + obj[4] * l1 + obj[5] * l2
        ly = obj[6] * l0 + obj[7] * l1 + obj[8] * l2
        lz = obj[9] * l0 + obj[10] * l1 + obj[11] * l2
        ux = obj[3] * u0 + obj[4] * u1 + obj[5] * u2
        uy = obj[6] * u0 + obj[7] * u1 + obj[8] * u2
        uz = obj[9] * u0 + obj[10] * u1 + obj[11] * u2
        cls = int(obj[15])
        iid = int(obj[16])
        mat = int(obj[17])
        pr, pg, pb = mats[mat, 1], mats[mat, 2], mats[mat, 3]
        if cls == VEHICLE:
            mode = int(paint[0])
            if mode == MODE_RANDOM:
                salt = int(paint[1])
                pr = 0.05 + 0.9 * hash01(iid, 1, salt)
                pg = 0.05 + 0.9 * hash01(iid, 2, salt)
                pb = 0.05 + 0.9 * hash01(iid, 3, salt)
            elif mode == MODE_PALETTE:
                j = int(hash01(iid, 0, 7919) * CAR_PAINTS.shape[0])
                pr, pg, pb = CAR_PAINTS[j, 0], CAR_PAINTS[j, 1], CAR_PAINTS[j, 2]
        for r in range(r0, r1 + 1):
            b = (0.5 * height - r - 0.5) * k
            for c in range(c0, c1 + 1):
                a = (0.5 * width - c - 0.5) * k
                if topdown:
                    ax = oxl + a * lx + b * ux
                    ay = oyl + a * ly + b * uy
                    az = ozl + a * lz + b * uz
                    bx, by, bz = fx, fy, fz
                else:
                    ax, ay, az = oxl, oyl, ozl
                    bx = fx + a * lx + b * ux
                    by = fy + a * ly + b * uy
                    bz = fz + a * lz + b * uz
                tmin, tmax, axis = -1e30, 1e30, -1
                tmin, tmax, moved = _slab(ax, bx, hx, tmin, tmax)
                if moved:
                    axis = 0
                tmin, tmax, moved = _slab(ay, by, hy, tmin, tmax)
                if moved:
                    axis = 1
                tmin, tmax, moved = _slab(az, bz, hz, tmin, tmax)
                if moved:
                    axis = 2
                if tmin > tmax or tmin <= NEAR or axis < 0:
                    continue
                stats[i, 0] += 1
                stats[i, 2] = min(stats[i, 2], r)
                stats[i, 3] = max(stats[i, 3], r)
                stats[i, 4] = min(stats[i, 4], c)
                stats[i, 5] = max(stats[i, 5], c)
                if tmin >= depth[r, c]:
                    continue
                hxl = ax + tmin * bx
                hyl = ay + tmin * by
                hzl = az + tmin * bz
                # Face normal (local axis, facing the ray) in the world, and the face's
                # own 2-D coordinates for its texture.
                if axis == 0:
                    s = -1.0 if bx > 0.0 else 1.0
                    nx, ny, nz = s * obj[3], s * obj[4], s * obj[5]
                    tu, tv = hyl, hzl
                elif axis == 1:
                    s = -1.0 if by > 0.0 else 1.0
                    nx, ny, nz = s * obj[6], s * obj[7], s * obj[8]
                    tu, tv = hxl, hzl
                else:
                    s = -1.0 if bz > 0.0 else 1.0
                    nx, ny, nz = s * obj[9], s * obj[10], s * obj[11]
                    tu, tv = hxl, hyl
                if cls == VEHICLE:
                    if axis != 2 and hzl > 0.2 * hz:  # a band of windows
                        ar, ag, ab = GLASS
                    else:
                        ar, ag, ab = pr, pg, pb
                else:
                    ar, ag, ab = _albedo(mats, mat, tu, tv)
                # hit point in the world, for point lights
                wxw = obj[0] + obj[3] * hxl + obj[6] * hyl + obj[9] * hzl
                wyw = obj[1] + obj[4] * hxl + obj[7] * hyl + obj[10] * hzl
                wzw = obj[2] + obj[5] * hxl + obj[8] * hyl + obj[11] * hzl
                lr, lg, lb = _light(nx, ny, nz, wxw, wyw, wzw, lights, ambient)
                fbuf[r, c, 0] = ar * lr
                fbuf[r, c, 1] = ag * lg
                fbuf[r, c, 2] = ab * lb
                depth[r, c] = tmin
                labels[r, c] = cls
                inst[r, c] = iid
                objidx[r, c] = i + 1

    # Pass 3: visible pixels per box.
    for r in range(height):
        for c in range(width):
            j = objidx[r, c]
            if j > 0:
                stats[j - 1, 1] += 1

    # Pass 4: blur, exposure, noise, quantization.
    w = np.float32(post[1])
    if w > 0.0:  # separable 3-tap blur (w, 1 - 2w, w), edges clamped
        wc = np.float32(1.0) - np.float32(2.0) * w
        f2 = fbuf.reshape(height, width * 3)  # rows of interleaved rgb: contiguous runs
        t2 = tmp.reshape(height, width * 3)
        n3 = width * 3
        for r in range(height):
            for j in range(n3):
                jl = j - 3 if j >= 3 else j
                jr = j + 3 if j + 3 < n3 else j
                t2[r, j] = wc * f2[r, j] + w * (f2[r, jl] + f2[r, jr])
        for r in range(height):
            ru = max(r - 1, 0)
            rd = min(r + 1, height - 1)
            for j in range(n3):
                f2[r, j] = wc * t2[r, j] + w * (t2[ru, j] + t2[rd, j])
    gain = post[2] * 255.0
    amp = post[0] * 255.0 * math.sqrt(12.0)  # uniform noise of std post[0]
    s32 = seed & 0x7FFFFFFF
    for r in range(height):
        for c in range(width):
            if amp > 0.0:
                h = int(hash01(r * width + c, 17, s32) * 1073741824.0)  # 30 random bits
            for ch in range(3):
                v = fbuf[r, c, ch] * gain
                if amp > 0.0:
                    v += amp * (((h >> (10 * ch)) & 1023) * (1.0 / 1024.0) - 0.5)
                v = min(max(v + 0.5, 0.0), 255.0)
                rgb[r, c, ch] = np.uint8(v)

    # Boxes of the vehicles and pedestrians in view.
    m = 0
    for i in range(n):
        cls = int(objs[i, 15])
        if stats[i, 0] > 0 and (cls == VEHICLE or cls == PEDESTRIAN):
            m += 1
    boxes = np.empty((m, 4), np.float32)
    box_cls = np.empty(m, np.uint8)
    box_inst = np.empty(m, np.int32)
    visible = np.empty(m, np.float32)
    m = 0
    for i in range(n):
        cls = int(objs[i, 15])
        if stats[i, 0] > 0 and (cls == VEHICLE or cls == PEDESTRIAN):
            boxes[m, 0] = stats[i, 4]
            boxes[m, 1] = stats[i, 2]
            boxes[m, 2] = stats[i, 5] + 1
            boxes[m, 3] = stats[i, 3] + 1
            box_cls[m] = cls
            box_inst[m] = int(objs[i, 16])
            visible[m] = stats[i, 1] / stats[i, 0]
            m += 1
    return boxes, box_cls, box_inst, visible
