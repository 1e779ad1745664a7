"""The driving world's configuration: road, traffic, pedestrians, obstacles, ego limits.

Every field is validated at construction, so a bad config fails where it is written with
an error that names the field, not deep inside a kernel.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class WorldConfig:
    """All knobs of :class:`sim.driving.world.World` (SI units: metres, seconds, radians)."""

    # ---- road ----------------------------------------------------------------------
    lanes: int = 3  # lanes of the route, all in the direction of travel
    lane_width: float = 3.5
    shoulder_width: float = 1.5  # kerb or shoulder band on both sides (KERB class)
    road_length: float = 400.0  # route length along the centreline
    curvature: float = 0.01  # largest |curvature| of the centreline (1/m); 0: straight
    max_heading: float = 1.2  # the road's heading stays within this of its start heading
    junctions: int = 0  # straight two-lane cross streets over the route (visual only)
    cell: float = 0.1  # ground map cell side
    ds: float = 1.0  # centreline sampling step

    # ---- traffic (IDM car following, MOBIL lane changes) -----------------------------
    traffic_density: float = 8.0  # vehicles per km per lane at reset
    max_vehicles: int = 24
    truck_fraction: float = 0.1
    traffic_speed: tuple[float, float] = (12.0, 20.0)  # desired speed range (m/s)
    idm_time_headway: float = 1.5
    idm_min_gap: float = 2.0
    idm_accel: float = 1.5
    idm_decel: float = 2.0  # comfortable deceleration
    max_decel: float = 12.0  # physical braking limit of traffic
    mobil_politeness: float = 0.3
    mobil_threshold: float = 0.2
    mobil_safe_decel: float = 4.0
    mobil_keep_right: float = 0.3  # added to the threshold going left, taken off going right
    lane_change_time: float = 3.0
    decision_interval: float = 1.0  # MOBIL re-evaluates each car this often

    # ---- pedestrians and static obstacles --------------------------------------------
    pedestrians: int = 4  # walk on the shoulders
    ped_speed: tuple[float, float] = (1.0, 1.6)
    ped_cross_rate: float = 0.02  # crossings started per pedestrian per second
    obstacles: int = 2  # static boxes in a lane (on the shoulder for a one-lane road)

    # ---- ego (kinematic bicycle) ---------------------------------------------------
    ego_length: float = 4.5
    ego_width: float = 1.9
    ego_height: float = 1.5
    wheelbase: float = 2.7
    max_steer: float = 0.55  # steering angle at steer = +-1 (rad)
    max_accel: float = 3.0  # at throttle = 1
    max_brake: float = 8.0  # at brake = 1
    max_speed: float = 35.0
    ego_start_s: float = 20.0  # arc length of the start
    ego_speed: float = 10.0  # speed at reset
    ego_lane: int | None = None  # None: drawn per episode
    end_margin: float = 10.0  # the route is complete this far before the road's end

    dt: float = 0.1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"WorldConfig.{f.name} must be finite, got {value}")
        if isinstance(self.lanes, bool) or not isinstance(self.lanes, int) or self.lanes < 1:
            raise ValueError(
                f"WorldConfig.lanes must be an int >= 1 (an empty road network has no "
                f"lanes), got {self.lanes!r}"
            )
        if not self.road_length > 0:
            raise ValueError(
                f"WorldConfig.road_length must be positive (an empty road network has no "
                f"length), got {self.road_length}"
            )
        positive = (
            "lane_width cell ds idm_time_headway idm_min_gap idm_accel idm_decel max_decel "
            "mobil_safe_decel lane_change_time decision_interval ego_length ego_width "
            "ego_height wheelbase max_steer max_accel max_brake max_speed dt max_heading"
        )
        for name in positive.split():
            if not getattr(self, name) > 0:
                raise ValueError(f"WorldConfig.{name} must be positive, got {getattr(self, name)}")
        non_negative = (
            "shoulder_width curvature traffic_density truck_fraction mobil_politeness "
            "mobil_threshold mobil_keep_right ped_cross_rate ego_speed end_margin"
        )
        for name in non_negative.split():
            if not getattr(self, name) >= 0:
                raise ValueError(f"WorldConfig.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("junctions", "max_vehicles", "pedestrians", "obstacles"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"WorldConfig.{name} must be an int >= 0, got {v!r}")
        for name in ("traffic_speed", "ped_speed"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(
                    f"WorldConfig.{name} must be (low, high) with 0 < low <= high, got {(lo, hi)}"
                )
        if self.truck_fraction > 1:
            raise ValueError(f"WorldConfig.truck_fraction must be <= 1, got {self.truck_fraction}")
        if self.ds > 5:
            raise ValueError(f"WorldConfig.ds must be <= 5 m, got {self.ds}")
        if self.cell > 1:
            raise ValueError(f"WorldConfig.cell must be <= 1 m, got {self.cell}")
        if self.max_steer >= math.pi / 2:
            raise ValueError(f"WorldConfig.max_steer must be < pi/2, got {self.max_steer}")
        if self.wheelbase > self.ego_length:
            raise ValueError(
                f"WorldConfig.wheelbase ({self.wheelbase}) must not exceed ego_length "
                f"({self.ego_length})"
            )
        if self.ego_speed > self.max_speed:
            raise ValueError(
                f"WorldConfig.ego_speed ({self.ego_speed}) must not exceed max_speed "
                f"({self.max_speed})"
            )
        # The inner road edge folds over itself where the radius is below the half width.
        outer = self.lanes * self.lane_width / 2 + self.shoulder_width
        if self.curvature * outer >= 0.5:
            raise ValueError(
                f"WorldConfig.curvature {self.curvature} is too sharp for a road "
                f"{outer:.1f} m from centre to outer kerb (need curvature < {0.5 / outer:.4f})"
            )
        if self.ego_lane is not None and not 0 <= self.ego_lane < self.lanes:
            raise ValueError(
                f"WorldConfig.ego_lane must be None or in [0, {self.lanes}), got {self.ego_lane}"
            )
        if not 0 <= self.ego_start_s < self.road_length - self.end_margin:
            raise ValueError(
                f"WorldConfig.ego_start_s ({self.ego_start_s}) must lie in [0, road_length - "
                f"end_margin) = [0, {self.road_length - self.end_margin})"
            )

    @property
    def half_width(self) -> float:
        """Centre to road edge (the drivable surface, without the shoulder)."""
        return self.lanes * self.lane_width / 2

    def lane_center(self, lane: int) -> float:
        """Lateral offset of ``lane``'s centre (lane 0 is the rightmost, offsets grow left)."""
        return (lane - (self.lanes - 1) / 2) * self.lane_width

    def replace(self, **changes) -> WorldConfig:
        """A copy with ``changes`` (validated again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown WorldConfig fields {sorted(unknown)}")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)
