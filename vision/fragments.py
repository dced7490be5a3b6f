"""Pieces of one fall that the tracker lost and found again, joined before judging.

A dark object crossing dark windows, or one that passes through rain, can vanish for longer than a track survives;
its fall then ends up as two or three tracks, each too short to pass the classifier. Recently ended pieces that
went down are kept for a moment, and a track that fails on its own is judged again joined to a piece that ended
just before it began, above it and roughly in line. The classifier's checks decide on the join like on any track.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vision.classifier import ClassifierParams
from vision.track_shape import falling_span, follow
from vision.tracker import Track


@dataclass
class FragmentJoiner:
    """Recently ended pieces that went down, and the joins a new track could make with them."""

    max_gap_frames: int = 10  # from the last detection of one piece to the first of the next
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
            if not 0 < gap <= self.max_gap_frames:
                continue
            dy = track.ys[0] - piece.ys[-1]
            if dy < 0 or abs(track.xs[0] - piece.xs[-1]) > self.max_lateral * dy + self.slack_px:
                continue
            if (len(piece) + len(track)) / (track.frames[-1] - piece.frames[0] + 1) < self.classifier.min_fill:
                continue  # the whole would be seen too rarely to pass as one fall
            out.append((piece, joined(piece, track)))
        return out

    def keep(self, track: Track) -> None:
        """Remember the falling part of a track that went down (it may continue in a later track), without the
        stray blobs the track took after the object vanished: the next piece starts where the object was.
        """
        if len(track) < 3 or max(track.ys) - track.ys[0] <= 3.0:
            return  # never went down: not a piece of a fall
        frames, ys = np.asarray(track.frames), np.asarray(track.ys)
        p = self.classifier
        a, b = falling_span(ys, 3.0, frames, p.min_fill)
        idx = np.arange(a, b)
        if b - a >= p.min_points:  # a shorter piece has had no time to run on after its object
            idx = a + follow(frames[a:b], np.asarray(track.xs[a:b]), ys[a:b], p.max_stray_px)
        if len(idx) >= 3 and ys[idx[-1]] > ys[idx[0]]:
            self.pieces.append(_subset(track, idx) if len(idx) < len(track) else track)
            del self.pieces[: -self.max_pieces]

    def drop(self, piece: Track) -> None:
        """Forget a piece now reported as part of a fall."""
        self.pieces = [p for p in self.pieces if p is not piece]


def joined(first: Track, second: Track) -> Track:
    """One track made of two (the second starts after the first ends)."""
    tr = Track(second.id)
    for part in (first, second):
        tr.frames += part.frames
        tr.times += part.times
        tr.xs += part.xs
        tr.ys += part.ys
        tr.areas += part.areas
    return tr


def _subset(track: Track, idx: np.ndarray) -> Track:
    part = Track(track.id)
    for i in idx.tolist():
        part.add(track.frames[i], track.times[i], track.xs[i], track.ys[i], track.areas[i])
    return part
