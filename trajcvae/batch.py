"""Windows -> batch: tensors in each agent's own normalised frame, and the way back to world coordinates.

For every window the frame is centred on the agent's position at t0, rotated so that its observed motion
points along +x (`frame="heading"`), and divided by its observed speed per step (`scale_norm`), floored at
`min_speed`. The model then sees every agent walking "to the right at unit speed"; an agent twice as fast
as any in training (ETH's `eth` scene walks at ~2.3 m/s, the others at ~1 m/s) is no longer out of range.
Only positions up to t0 define the frame, so the transform leaks nothing from the future.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .checks import readable, smoothed, window_noise
from .config import DataConfig
from .windows import Windows


OFFSET_GRID = 1000.0  # metres: windows are shifted by a multiple of this, in float64, before the float32 cast


@dataclass
class WindowTensors:
    """A `Windows` as float32 tensors (NaN = unobserved), ready to be sliced into batches.

    Positions are stored relative to `offset`, each window's t0 position rounded to a multiple of 1 km and
    subtracted in float64: georeferenced coordinates (UTM northings of 5e6 m, where a float32 resolves only
    0.5 m) reach float32 as numbers below 1 km. Scenes within 500 m of the origin have offset 0."""

    obs: torch.Tensor  # (N, T_obs, 2)
    nbr: torch.Tensor  # (N, M, T_obs, 2)
    fut: torch.Tensor | None  # (N, T_pred, 2)
    mem: torch.Tensor | None = None  # (N, Mm, T_pred + 2, 2) remembered paths (`memory`), NaN = empty
    mem_lag: torch.Tensor | None = None  # (N, Mm) their lags in steps
    offset: np.ndarray | None = None  # (N, 2) float64 world position the stored positions are relative to
    cut: dict | None = None  # the settings the windows were cut with, where a model made them (`Windows.cut`)
    noise: torch.Tensor | None = None  # (N, T_obs) a dense tracker's noise left on its steps (`Windows.noise`)

    @classmethod
    def from_windows(cls, w: Windows) -> "WindowTensors":
        offset = np.round(np.asarray(w.obs[:, -1], dtype=np.float64) / OFFSET_GRID) * OFFSET_GRID  # (N, 2)
        offset = np.nan_to_num(offset) + 0.0  # -0.0 -> 0.0

        def t(a: np.ndarray | None, shift: bool = True) -> torch.Tensor | None:
            if a is None:
                return None
            if shift and offset.any():
                a = np.asarray(a, dtype=np.float64) - offset.reshape((-1,) + (1,) * (a.ndim - 2) + (2,))
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

        return cls(t(w.obs), t(w.nbr), t(w.fut), t(w.mem), t(w.mem_lag, shift=False), offset, w.cut,
                   t(w.noise, shift=False))

    def inputs(self, idx) -> "WindowTensors":
        """Windows `idx` (a slice, or indices as a list, array or tensor), without their futures: what a
        prediction may see."""
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        rows = idx if isinstance(idx, slice) else np.asarray(idx)  # the offsets are a numpy array
        return WindowTensors(self.obs[idx], self.nbr[idx], None, pick(self.mem), pick(self.mem_lag),
                             None if self.offset is None else self.offset[rows], self.cut, pick(self.noise))

    def pinned(self) -> "WindowTensors":
        pin = lambda a: None if a is None else a.pin_memory()  # noqa: E731
        return WindowTensors(*(pin(a) for a in (self.obs, self.nbr, self.fut, self.mem, self.mem_lag)),
                             self.offset, self.cut, self.noise)

    def __len__(self) -> int:
        return len(self.obs)


@dataclass
class Batch:
    """Windows in each agent's own frame: what the model reads (and, in training, its target)."""

    OBS_CHANNELS = 5  # per observed step of the agent: position (2), velocity (2), observed flag
    NBR_CHANNELS = 7  # per step of a neighbour: position (2), velocity (2), position relative to the agent (2), flag

    obs: torch.Tensor  # (B, T_obs, OBS_CHANNELS) in the agent's frame
    nbr: torch.Tensor  # (B, M, T_obs, NBR_CHANNELS)
    nbr_mask: torch.Tensor  # (B, M) True where the neighbour slot is filled
    cv: torch.Tensor  # (B, T_pred, 2) constant-velocity extrapolation in the agent's frame
    fut: torch.Tensor | None  # (B, T_pred, 2) true future in the agent's frame (training/evaluation)
    origin: torch.Tensor  # (B, 2) world position at t0
    rot: torch.Tensor  # (B, 2, 2) world -> agent-frame rotation (may include a mirror)
    scale: torch.Tensor  # (B,) world units per agent-frame unit
    mem: torch.Tensor | None = None  # (B, Mm, mem_channels(T_pred)): remembered paths in the agent's frame
    mem_mask: torch.Tensor | None = None  # (B, Mm) True where the slot holds a path

    @staticmethod
    def mem_channels(pred_len: int) -> int:
        """Features per remembered path: its positions from the step before its start to P steps after
        (P + 2 of them, 2 coordinates each) and its lag."""
        return 2 * (pred_len + 2) + 1

    def to_world(self, local: torch.Tensor) -> torch.Tensor:
        """Agent-frame positions (B, ..., 2) back to world coordinates."""
        shape = (local.shape[0],) + (1,) * (local.dim() - 2) + (2, 2)
        rot_t = self.rot.transpose(1, 2).reshape(shape)  # inverse of a rotation/mirror is its transpose
        scale = self.scale.reshape((-1,) + (1,) * (local.dim() - 1))
        origin = self.origin.reshape((-1,) + (1,) * (local.dim() - 2) + (2,))
        return (rot_t @ (local * scale).unsqueeze(-1)).squeeze(-1) + origin


def make_batch(wt: WindowTensors, idx, cfg: DataConfig, device: torch.device | str = "cpu",
               augment: bool = False, generator: torch.Generator | None = None,
               top_step: float | None = None) -> Batch:
    """Select windows `idx`, normalise them into each agent's frame (optionally with augmentation).

    `top_step`, the model's top speed over a step (`TrajCVAE.top_step`): given, as every prediction gives it, each
    history is read as far as the model's frame can hold it (`checks.readable`: a position off the track mended,
    only what follows a jump or a turn back). Training reads the histories as they were recorded (None)."""
    obs, nbr = wt.obs[idx], wt.nbr[idx]  # (B, T, 2), (B, M, T, 2)
    measured = None if wt.noise is None else wt.noise[idx].numpy()
    noise = window_noise(obs.numpy(), nbr.numpy(), cfg.noise, measured)  # (B,) or (B, T) metres; "auto": measured
    if top_step is not None or noise.any():
        recorded = obs.numpy()
        read = smoothed(recorded, noise, cfg.dt) if top_step is None else \
            readable(recorded, cfg.min_speed, top_step, noise, cfg.dt)
        if read is not recorded:  # a copy only where one is cut or smoothed
            obs = torch.from_numpy(read.astype(np.float32, copy=False))
    if noise.any():  # the neighbours' detections are as noisy
        each = np.repeat(noise, nbr.shape[1], axis=0)  # (B * M,) or (B * M, T): a neighbour's, its window's
        nbr = torch.from_numpy(smoothed(nbr.numpy().reshape(-1, *nbr.shape[2:]), each, cfg.dt, top_step)
                               .reshape(nbr.shape).astype(np.float32))
    # non_blocking: with pinned host tensors the copy to a GPU overlaps compute (a no-op on CPU).
    obs = obs.to(device, non_blocking=True)
    nbr = nbr.to(device, non_blocking=True)
    fut = None if wt.fut is None else wt.fut[idx].to(device, non_blocking=True)
    B = obs.shape[0]
    if cfg.fill_short_history:
        obs = _fill_short_history(obs)
    if augment and cfg.augment_noise > 0:
        # Annotated positions are noisy (eth's much more than the other scenes'): a jittered history
        # teaches the model not to trust its last step blindly. The future, the target, stays clean.
        # With `augment_noise_spread`, one std per window, from 0 (a smooth spline) to twice the mean.
        sigma = (2 * cfg.augment_noise * torch.rand(B, generator=generator) if cfg.augment_noise_spread
                 else torch.full((B,), cfg.augment_noise)).to(obs.device)  # (B,)
        obs = obs + sigma[:, None, None] * torch.randn(obs.shape, generator=generator).to(obs.device)
        nbr = nbr + sigma[:, None, None, None] * torch.randn(nbr.shape, generator=generator).to(nbr.device)
    valid, first, start, n_steps = _observed_span(obs)
    origin = obs[:, -1]
    disp = origin - start  # (B, 2) observed displacement
    angle = torch.atan2(disp[:, 1], disp[:, 0]) if cfg.frame == "heading" else torch.zeros(B, device=obs.device)
    if cfg.scale_norm:
        scale = (disp.norm(dim=1) / n_steps).clamp(min=cfg.min_speed)
    else:
        scale = torch.ones(B, device=obs.device)
    flip = torch.ones(B, device=obs.device)
    if augment:
        if cfg.augment_rotate and cfg.frame == "world":
            angle = angle + torch.rand(B, generator=generator).to(obs.device) * 2 * math.pi
        if cfg.augment_flip:
            flip = torch.where(torch.rand(B, generator=generator) < 0.5, -1.0, 1.0).to(obs.device)
    c, s = torch.cos(angle), torch.sin(angle)
    # Rotate by -angle, then mirror the y axis where flip = -1.
    rot = torch.stack([torch.stack([c, s], -1), torch.stack([-s * flip, c * flip], -1)], 1)  # (B, 2, 2)

    def rotated(p: torch.Tensor) -> torch.Tensor:  # (B, ..., 2) world -> agent frame, before scaling
        shape = (B,) + (1,) * (p.dim() - 2) + (2, 2)
        o = origin.reshape((B,) + (1,) * (p.dim() - 2) + (2,))
        return (rot.reshape(shape) @ (p - o).unsqueeze(-1)).squeeze(-1)

    def scaled(r: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:  # (B, ..., 2) / per-window unit (B,)
        return r / unit.reshape((B,) + (1,) * (r.dim() - 1))

    obs_r = rotated(obs)  # (B, T, 2)
    nbr_r = rotated(nbr.reshape(B, -1, 2)).reshape(nbr.shape)  # (B, M, T, 2)
    obs_l, nbr_l = scaled(obs_r, scale), scaled(nbr_r, scale)
    nbr_valid = ~torch.isnan(nbr[..., 0])  # (B, M, T)
    # Neighbour velocities stay in the agent's scale (speed relative to its own); positions, and the
    # gaps to the agent, take `nbr_unit` when set.
    nbr_p, obs_p = nbr_l, obs_l
    if cfg.nbr_unit > 0:
        unit = torch.full_like(scale, cfg.nbr_unit)
        nbr_p, obs_p = scaled(nbr_r, unit), scaled(obs_r, unit)
    rel = nbr_p - obs_p.unsqueeze(1)  # neighbour relative to the agent at the same step
    obs_f = torch.cat([_clean(obs_l), _clean(_velocity(obs_l)), valid.unsqueeze(-1).float()], -1)
    nbr_f = torch.cat([_clean(nbr_p), _clean(_velocity(nbr_l)), _clean(rel), nbr_valid.unsqueeze(-1).float()], -1)
    v_last = torch.nan_to_num(obs_l[:, -1] - obs_l[:, -2], nan=0.0)  # backward difference at t0 (0 if none)
    steps = torch.arange(1, cfg.pred_len + 1, device=obs.device, dtype=obs.dtype)
    cv = v_last.unsqueeze(1) * steps[None, :, None]  # (B, P, 2)
    fut_l = None if fut is None else scaled(rotated(fut), scale)  # (B, P, 2)
    mem_f = mem_mask = None
    if cfg.memory > 0:
        if wt.mem is None:
            raise ValueError("the model uses data.memory but the windows were built without it")
        mem = wt.mem[idx].to(device, non_blocking=True)  # (B, Mm, P + 2, 2)
        mem_mask = ~torch.isnan(mem[:, :, 0, 0])  # (B, Mm)
        # In the agent's frame and speed unit, like its own future: a remembered path is a candidate answer.
        lag = wt.mem_lag[idx].to(device, non_blocking=True) / cfg.memory_horizon  # (B, Mm) in (0, 1]
        mem_f = torch.cat([_clean(scaled(rotated(mem), scale)).flatten(2), _clean(lag)[..., None]], -1)
    return Batch(obs_f, nbr_f, nbr_valid[..., -1], cv, fut_l, origin, rot, scale, mem_f, mem_mask)


def _observed_span(obs: torch.Tensor):
    """(B, T, 2) history, NaN before the track starts -> the observed flags (B, T), the first observed step
    (B,), its position (B, 2) and the steps from it to t0 (B,), at least 1 (t0 is always observed)."""
    valid = ~torch.isnan(obs[..., 0])
    first = valid.float().argmax(dim=1)
    start = obs[torch.arange(len(obs), device=obs.device), first]
    return valid, first, start, (obs.shape[1] - 1 - first).clamp(min=1).float()


def _fill_short_history(obs: torch.Tensor) -> torch.Tensor:
    """(B, T, 2) with NaN before each track's first position -> the gaps filled by walking back from that
    position at the track's mean observed velocity (a single position stays put). Uses positions up to t0
    only; full histories are returned unchanged."""
    _, first, start, n_steps = _observed_span(obs)
    v = (obs[:, -1] - start) / n_steps[:, None]  # (B, 2) metres per step
    back = first[:, None] - torch.arange(obs.shape[1], device=obs.device)[None]  # (B, T) steps before first
    filled = start[:, None] - back[..., None].to(obs.dtype) * v[:, None]  # (B, T, 2)
    return torch.where((back > 0)[..., None], filled, obs)  # only the left padding


def _velocity(p: torch.Tensor) -> torch.Tensor:
    """Backward differences along time (dim -2); the first step (and any after a NaN) is NaN."""
    v = torch.full_like(p, float("nan"))
    v[..., 1:, :] = p[..., 1:, :] - p[..., :-1, :]
    return v


def _clean(x: torch.Tensor) -> torch.Tensor:
    return torch.nan_to_num(x, nan=0.0)
