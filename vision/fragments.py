"""Pieces of one fall that the tracker lost and found again, joined before judging.

A dark object crossing dark windows, or one that passes through rain, can vanish for longer than a track survives;
its fall then ends up as two or three tracks, each too short to pass the classifier. Recently ended pieces that
went down are kept for a moment, and a track that fails on its own is judged again joined to a piece that ended
just before it began, above it and roughly in line. The classifier's checks decide on the join like on any track.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from vision.classifier import ClassifierParams
from vision.track_shape import falling_span, follow_track
from vision.tracker import Track


@dataclass
class FragmentJoiner:
    """Recently ended pieces that went down, and the joins a new track could make with them."""

    max_gap_frames: int = 10  # from the last detection of one piece to the first of the next
    max_overlap_frames: int = 3  # two tracks may share an object for a few frames (a blob that split in two)
    max_hidden_stretches: int = 2  # three pieces: an object crossing two slabs or window bands of its own shade
    keep_s: float = 3.0  # how long a piece waits for its continuation
    max_lateral: float = 0.3  # |dx| / dy across the gap, as for a whole fall
    slack_px: float = 10.0  # processing px of sideways slack across the gap
    max_pieces: int = 32
    classifier: ClassifierParams = field(default_factory=ClassifierParams)  # pieces are trimmed as it trims tracks
    pieces: list[Track] = field(default_factory=list)

    def joins(self, track: Track) -> list[tuple[Track, Track]]:
        """(piece, joined track) pairs to judge for ``track``, most recent piece first."""
        first_frame, first_t = track.frames[0], track.times[0]
        self.pieces = [p for p in self.pieces if first_t - p.times[-1] <= self.keep_s]
        out = []
        for piece in reversed(self.pieces):
            gap = first_frame - piece.frames[-1]
            if not -self.max_overlap_frames <= gap <= self.max_gap_frames or piece.frames[0] >= first_frame:
                continue
            end = _before(piece, first_frame)  # two tracks on one object for a moment: the later one goes on
            dy = track.ys[0] - piece.ys[end - 1]
            if dy < 0 or abs(track.xs[0] - piece.xs[end - 1]) > self.max_lateral * dy + self.slack_px:
                continue
            whole = joined(piece, track, end)
            hidden = sum(count for _, count in whole.hidden)
            if len(whole.hidden) > self.max_hidden_stretches or hidden > len(whole):
                continue  # an object hidden more often, or for longer than it is seen: a chain of unrelated blobs
            if len(whole) / whole.seen_span() < self.classifier.min_fill:
                continue  # the pieces themselves are seen too rarely to pass as one fall
            out.append((piece, whole))
        return out

    def keep(self, track: Track) -> None:
        """Remember the falling part of a track that went down (it may continue in a later track), without the
        stray blobs the track took after the object vanished: the next piece starts where the object was.
        """
        if len(track) < 3 or max(track.ys) - track.ys[0] <= 3.0:
            return  # never went down: not a piece of a fall
        p = self.classifier
        a, b = falling_span(track.ys, 3.0, track.frames, p.min_fill)
        if b - a < p.min_points:  # a shorter piece has had no time to run on after its object: kept as it is
            if b - a >= 3 and track.ys[b - 1] > track.ys[a]:
                self.pieces.append(_subset(track, range(a, b)) if b - a < len(track) else track)
                del self.pieces[: -self.max_pieces]
            return
        ys = np.asarray(track.ys)
        idx = a + follow_track(track, a, b, p.max_stray_px)
        if len(idx) >= 3 and ys[idx[-1]] > ys[idx[0]]:
            self.pieces.append(_subset(track, idx.tolist()) if len(idx) < len(track) else track)
            del self.pieces[: -self.max_pieces]

    def drop(self, piece: Track) -> None:
        """Forget a piece now reported as part of a fall."""
        self.pieces = [p for p in self.pieces if p is not piece]


def joined(first: Track, second: Track, end: int | None = None) -> Track:
    """One track made of two, the first cut where the second begins (after its first ``end`` points, which the
    caller may know already); the frames between them are hidden ones (the object crossed something of its own
    shade), so the whole is judged as seen in every frame it was.
    """
    if end is None:
        end = _before(first, second.frames[0])
    tr = Track(second.id, first.frames[:end], first.times[:end], first.xs[:end], first.ys[:end], first.areas[:end],
               [h for h in first.hidden if h[0] + h[1] <= first.frames[end - 1]])
    gap = second.frames[0] - first.frames[end - 1] - 1
    if gap > 0:
        tr.hidden.append((first.frames[end - 1] + 1, gap))
    tr.frames += second.frames
    tr.times += second.times
    tr.xs += second.xs
    tr.ys += second.ys
    tr.areas += second.areas
    tr.hidden += second.hidden
    if len(first.gated) == len(first) and len(second.gated) == len(second):  # the crowd each piece was picked from
        tr.gated = first.gated[:end] + second.gated
    return tr


def _before(track: Track, frame: int) -> int:
    """How many of the track's points come before ``frame`` (a track's frames only ever increase)."""
    return bisect_left(track.frames, frame)


def _subset(track: Track, idx: Iterable[int]) -> Track:
    part = Track(track.id, hidden=list(track.hidden))
    counted = len(track.gated) == len(track)
    for i in idx:
        part.add(track.frames[i], track.times[i], track.xs[i], track.ys[i], track.areas[i],
                 track.gated[i] if counted else 1)
    return part
