"""The ego's kinematic bicycle model and oriented-box geometry (SAT overlap, ray casts).

The bicycle is referenced at the box centre, halfway between the axles (Kong et al.,
2015): slip angle ``beta = atan(tan(delta) / 2)``, yaw rate ``v sin(beta) / lr`` with
``lr = wheelbase / 2``. Each step integrates the arc exactly for the step's mean speed,
so the rear axle turns on a circle of radius ``wheelbase / tan(delta)`` at any ``dt``.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def bicycle_step(x, y, yaw, v, delta, accel, dt, wheelbase, max_speed):
    """One step of the kinematic bicycle: returns (x, y, yaw, v). ``delta`` is the
    steering angle (rad), ``accel`` the longitudinal acceleration (m/s^2); speed stays
    in [0, max_speed] (no reverse)."""
    v1 = v + accel * dt
    if v1 < 0.0:
        v1 = 0.0
    if v1 > max_speed:
        v1 = max_speed
    vm = 0.5 * (v + v1)
    lr = 0.5 * wheelbase
    beta = math.atan(0.5 * math.tan(delta))
    omega = vm * math.sin(beta) / lr
    course = yaw + beta
    if abs(omega) > 1e-9:
        dh = omega * dt
        x += vm / omega * (math.sin(course + dh) - math.sin(course))
        y -= vm / omega * (math.cos(course + dh) - math.cos(course))
        yaw += dh
    else:
        x += vm * dt * math.cos(course)
        y += vm * dt * math.sin(course)
    yaw = math.atan2(math.sin(yaw), math.cos(yaw))
    return x, y, yaw, v1


@njit(cache=True)
def boxes_overlap(x1, y1, yaw1, l1, w1, x2, y2, yaw2, l2, w2):
    """Separating-axis test of two oriented rectangles (centre, yaw, length, width)."""
    dx = x2 - x1
    dy = y2 - y1
    r1 = 0.5 * math.sqrt(l1 * l1 + w1 * w1)
    r2 = 0.5 * math.sqrt(l2 * l2 + w2 * w2)
    if dx * dx + dy * dy > (r1 + r2) ** 2:
        return False
    c1 = math.cos(yaw1)
    s1 = math.sin(yaw1)
    c2 = math.cos(yaw2)
    s2 = math.sin(yaw2)
    axes = ((c1, s1), (-s1, c1), (c2, s2), (-s2, c2))
    for k in range(4):
        axx, axy = axes[k]
        # projection half-extents of both boxes on this axis
        p1 = 0.5 * l1 * abs(c1 * axx + s1 * axy) + 0.5 * w1 * abs(-s1 * axx + c1 * axy)
        p2 = 0.5 * l2 * abs(c2 * axx + s2 * axy) + 0.5 * w2 * abs(-s2 * axx + c2 * axy)
        if abs(dx * axx + dy * axy) > p1 + p2:
            return False
    return True


@njit(cache=True)
def ray_box(ox, oy, dx, dy, bx, by, byaw, bl, bw):
    """Distance along unit ray (o, d) to an oriented rectangle, inf if missed (a ray
    starting inside returns 0)."""
    c = math.cos(byaw)
    s = math.sin(byaw)
    # ray in the box frame
    rx = c * (ox - bx) + s * (oy - by)
    ry = -s * (ox - bx) + c * (oy - by)
    vx = c * dx + s * dy
    vy = -s * dx + c * dy
    hx = 0.5 * bl
    hy = 0.5 * bw
    t0 = -math.inf
    t1 = math.inf
    if abs(vx) < 1e-12:
        if abs(rx) > hx:
            return math.inf
    else:
        a = (-hx - rx) / vx
        b = (hx - rx) / vx
        t0 = max(t0, min(a, b))
        t1 = min(t1, max(a, b))
    if abs(vy) < 1e-12:
        if abs(ry) > hy:
            return math.inf
    else:
        a = (-hy - ry) / vy
        b = (hy - ry) / vy
        t0 = max(t0, min(a, b))
        t1 = min(t1, max(a, b))
    if t1 < max(t0, 0.0):
        return math.inf
    return max(t0, 0.0)


@njit(cache=True)
def ray_segment(ox, oy, dx, dy, ax, ay, bx, by):
    """Distance along unit ray (o, d) to segment a-b, inf if missed."""
    ex = bx - ax
    ey = by - ay
    den = dx * ey - dy * ex
    if abs(den) < 1e-12:
        return math.inf
    wx = ax - ox
    wy = ay - oy
    t = (wx * ey - wy * ex) / den
    u = (wx * dy - wy * dx) / den
    if t < 0.0 or u < 0.0 or u > 1.0:
        return math.inf
    return t
