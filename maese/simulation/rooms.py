"""Simulated shoebox rooms (pyroomacoustics) for the embedded corpus.

An RIR is a hybrid: the image-source method (pyroomacoustics, absorption from Sabine's formula
via ``pra.inverse_sabine``, order capped at ``max_order`` for speed) up to the time its image
set stops being complete, then a Gaussian tail that decays 60 dB per target RT60, its level
matched to the image-source energy just before the switch. The tail keeps long RT60s cheap
and makes the measured RT60 follow the target (a capped image-source RIR alone stops short).

Domains: ``train`` rooms are ordinary rooms; ``ood`` rooms are either small booths or large
halls, with every side length and the RT60 range outside the training ones, so the held-out
set contains rooms that training never does (:data:`ROOM_DOMAINS`).
"""

import dataclasses

import numpy as np
import pyroomacoustics as pra

from maese.acoustics import direct_to_reverberant_ratio

SPEED_OF_SOUND = 343.0
WALL_MARGIN = 0.5  # m, least distance of the source and mic to any wall
MAX_ABSORPTION = 0.9  # energy absorption cap; a shorter RT60 than it allows is raised to fit
_SOURCE_HEIGHT = (1.0, 1.9)  # m, a talker's mouth
_MIC_HEIGHT = (0.6, 1.9)  # m
_MATCH_WINDOW_S = 0.02  # image-source stretch whose energy sets the tail level
_TAIL_SPAN = 1.2  # RIR length after the direct path, in RT60s (about -72 dB)


@dataclasses.dataclass(frozen=True)
class RoomDomain:
    """Ranges a room of one kind is drawn from: side lengths (m), target RT60 (s), distance (m)."""

    name: str
    dims_low: tuple
    dims_high: tuple
    rt60_range: tuple
    distance_range: tuple


ROOM_DOMAINS = {
    "train": (RoomDomain("room", (3.0, 3.0, 2.4), (12.0, 10.0, 4.0), (0.15, 1.0), (0.5, 3.0)),),
    "ood": (
        RoomDomain("booth", (1.6, 1.5, 2.0), (2.8, 2.8, 2.3), (0.05, 0.15), (0.3, 1.0)),
        RoomDomain("hall", (14.0, 11.0, 4.5), (24.0, 18.0, 9.0), (1.0, 1.8), (2.0, 8.0)),
    ),
}


@dataclasses.dataclass(frozen=True)
class RoomSpec:
    """A shoebox room: ``dims`` (m), target ``rt60`` (s), ``source`` and ``mic`` positions (m)."""

    dims: tuple
    rt60: float
    source: tuple
    mic: tuple

    @property
    def distance(self):
        """Source-mic distance (m)."""
        return float(np.linalg.norm(np.subtract(self.source, self.mic)))


def _domains(domain):
    """The :class:`RoomDomain` kinds of ``domain``; ValueError if unknown."""
    if domain not in ROOM_DOMAINS:
        raise ValueError(f"Unknown room domain {domain!r}; valid: {', '.join(ROOM_DOMAINS)}.")
    return ROOM_DOMAINS[domain]


def describe_domain(domain):
    """JSON-ready description of the room kinds of ``domain`` ("train" or "ood")."""
    return [dataclasses.asdict(kind) for kind in _domains(domain)]


def min_rt60(dims):
    """Shortest RT60 (s) Sabine's formula gives ``dims`` (m) at ``MAX_ABSORPTION``."""
    volume = np.prod(dims)
    surface = 2 * (dims[0] * dims[1] + dims[0] * dims[2] + dims[1] * dims[2])
    return float(24 * np.log(10) * volume / (SPEED_OF_SOUND * surface * MAX_ABSORPTION))


def _box(dims, heights):
    """Bounds (low, high) ``[3]`` (m) of points ``WALL_MARGIN`` from the walls, at ``heights`` if they fit."""
    inner = (np.full(3, WALL_MARGIN), np.asarray(dims) - WALL_MARGIN)
    return (np.clip([WALL_MARGIN, WALL_MARGIN, heights[0]], *inner),
            np.clip([dims[0] - WALL_MARGIN, dims[1] - WALL_MARGIN, heights[1]], *inner))


def _place(rng, dims, distance_range, tries=64, batch=256):
    """Source and mic in their boxes (:func:`_box`), a distance drawn in ``distance_range`` apart -> (src, mic)."""
    source_box, (mic_low, mic_high) = _box(dims, _SOURCE_HEIGHT), _box(dims, _MIC_HEIGHT)
    for _ in range(tries):
        source = rng.uniform(*source_box, (batch, 3))
        mic_z = rng.uniform(mic_low[2], mic_high[2], batch)
        distance = rng.uniform(*distance_range, batch)
        across = np.sqrt(np.maximum(distance**2 - (mic_z - source[:, 2]) ** 2, 0))  # horizontal part
        angle = rng.uniform(0, 2 * np.pi, batch)
        mic = np.column_stack([source[:, :2] + across[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]),
                               mic_z])
        fits = (np.abs(mic_z - source[:, 2]) <= distance) & np.all((mic >= mic_low) & (mic <= mic_high), axis=1)
        if fits.any():
            i = int(np.argmax(fits))
            return tuple(map(float, source[i])), tuple(map(float, mic[i]))
    raise ValueError(f"No source-mic distance in {distance_range} m fits a {tuple(dims)} m room.")


def sample_room(rng, domain="train", rt60_range=None, distance_range=None):
    """A random :class:`RoomSpec` of ``domain`` ("train" or "ood", which picks booth or hall evenly).

    ``rt60_range`` (s) and ``distance_range`` (m) override the domain's. The RT60 is drawn in
    the part of the range the room can reach (see :func:`min_rt60`), or set to its least.
    """
    kinds = _domains(domain)
    kind = kinds[rng.integers(len(kinds))]
    dims = tuple(float(d) for d in rng.uniform(kind.dims_low, kind.dims_high))
    low, high = rt60_range or kind.rt60_range
    low = max(low, min_rt60(dims))
    rt60 = float(rng.uniform(low, high)) if low < high else low
    source, mic = _place(rng, dims, distance_range or kind.distance_range)
    return RoomSpec(dims, rt60, source, mic)


def _image_source_rir(spec, rt60, sample_rate, max_order):
    """Image-source RIR of ``spec`` -> (rir ``[n]``, absorption, order used, order Sabine asks for)."""
    absorption, full_order = pra.inverse_sabine(rt60, spec.dims, c=SPEED_OF_SOUND)
    order = min(full_order, max_order)
    room = pra.ShoeBox(list(spec.dims), fs=sample_rate, materials=pra.Material(absorption),
                       max_order=order, air_absorption=False, ray_tracing=False)
    room.add_source(list(spec.source))
    room.add_microphone(list(spec.mic))
    room.compute_rir()
    return np.asarray(room.rir[0][0], dtype=np.float64), absorption, order, full_order


def _complete_until(dims, order):
    """Time (s) up to which the image sources of ``order`` cover every path (largest sphere in their diamond)."""
    a, b, c = dims
    radius = min(x * y / np.hypot(x, y) for x, y in ((a, b), (a, c), (b, c)))
    return order * radius / SPEED_OF_SOUND


def _add_tail(ism, start, end, rt60, sample_rate, rng):
    """``ism`` up to ``start``, then Gaussian decay (60 dB per ``rt60`` s) level-matched to it, to ``end``."""
    window = int(_MATCH_WINDOW_S * sample_rate)
    t = (np.arange(end) - start) / sample_rate
    decay = 10 ** (-3 * t / rt60)  # amplitude; energy falls 60 dB per rt60
    early = np.zeros(end)
    early[:min(end, ism.size)] = ism[:end]
    level = np.sqrt(np.mean(early[start - window:start] ** 2) / np.mean(decay[start - window:start] ** 2))
    fade = np.clip((np.arange(end) - (start - window)) / window, 0, 1)  # 0 -> 1 over the window
    return early * (1 - fade) + level * decay * rng.standard_normal(end) * fade


def _on_sample_grid(spec, sample_rate):
    """``spec`` with the mic moved (< half a sample, 1.1 cm at 16 kHz) along the source-mic line so the
    direct path takes a whole number of samples: its peak is one unsmeared sample."""
    if spec.distance == 0:
        raise ValueError(f"Source and mic coincide at {spec.source}.")
    source, mic = np.array(spec.source), np.array(spec.mic)
    samples = max(round(spec.distance / SPEED_OF_SOUND * sample_rate), 1)
    scale = samples * SPEED_OF_SOUND / sample_rate / spec.distance
    return dataclasses.replace(spec, mic=tuple(map(float, source + scale * (mic - source))))


def _spec_rng(spec):
    """Generator seeded by the spec's numbers, so an RIR is a pure function of its spec."""
    numbers = np.array([*spec.dims, spec.rt60, *spec.source, *spec.mic], dtype=np.float64)
    return np.random.default_rng(numbers.view(np.uint32))


def simulate_rir(spec, sample_rate=16000, max_order=15):
    """Room impulse response of ``spec`` (see the module docstring).

    Arguments
    ---------
    spec : RoomSpec
    sample_rate : int
        Hz.
    max_order : int
        Cap on the image-source order.

    Returns
    -------
    rir : np.ndarray float32 ``[n]``, starting at the emission (pyroomacoustics' 40-sample
        fractional-delay offset included), ``1.2 rt60`` long after the direct path (about 72 dB
        of decay). The mic is moved < 1.1 cm (at 16 kHz) so that the direct path is one sample,
        normalised to 1. It is the largest sample but in rare geometries (~0.4% of sampled rooms,
        e.g. a mic near a corner) where near-coincident reflections sum to a peak of up to ~1.5.
    info : dict, JSON-ready: dims, rt60_target (raised to :func:`min_rt60` if needed), absorption,
        max_order (used), sabine_order (asked for), source, mic (as moved), distance (m),
        direct_index, tail_start (samples), rt60_measured (s, T30 of the RIR), drr_db.
    """
    spec = _on_sample_grid(spec, sample_rate)
    rt60 = max(spec.rt60, min_rt60(spec.dims))
    ism, absorption, order, full_order = _image_source_rir(spec, rt60, sample_rate, max_order)
    offset = pra.constants.get("frac_delay_length") // 2  # pyroomacoustics' global delay (samples)
    direct = offset + round(spec.distance / SPEED_OF_SOUND * sample_rate)
    window = int(_MATCH_WINDOW_S * sample_rate)
    start = max(int(_complete_until(spec.dims, order) * sample_rate) + offset, direct + 2 * window)
    end = max(direct + int(_TAIL_SPAN * rt60 * sample_rate), start + window)
    rir = _add_tail(ism, start, end, rt60, sample_rate, _spec_rng(spec))
    rir = (rir / rir[direct]).astype(np.float32)
    info = {
        "dims": list(spec.dims), "rt60_target": rt60, "absorption": float(absorption), "max_order": int(order),
        "sabine_order": int(full_order), "source": list(spec.source), "mic": list(spec.mic),
        "distance": spec.distance, "direct_index": direct, "tail_start": int(start),
        "rt60_measured": float(pra.experimental.measure_rt60(rir, fs=sample_rate, decay_db=30)),
        "drr_db": direct_to_reverberant_ratio(rir, sample_rate),
    }
    return rir, info
