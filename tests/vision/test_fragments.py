"""A fall the tracker lost for a moment is judged as one track again."""

from __future__ import annotations

import numpy as np

from tests.vision.helpers import G, linear_floor_lines, track_from
from vision.camera_config import CameraConfig
from vision.classifier import classify
from vision.detector import Detector, LitteringEvent
from vision.fragments import FragmentJoiner, joined
from vision.track_shape import falling_span
from vision.tracker import Track

FPS = 20.0
PX_PER_M = 5.0  # 15 px per 3 m floor
CFG = CameraConfig(id="frag", fps=FPS, floor_lines=linear_floor_lines(350.0, 15.0, 22))
RELEASE_ROW = 350.0 - 17.5 * 15.0  # the middle of floor 18


def row_at(k: int) -> float:
    t = k / FPS
    return RELEASE_ROW + PX_PER_M * 0.5 * G * t * t


def piece(frames: range, x: float = 320.0) -> Track:
    pts = [(k / FPS, x, row_at(k)) for k in frames]
    return track_from(pts, start=frames.start)


def test_two_pieces_that_each_fail_pass_joined() -> None:
    first, second = piece(range(20)), piece(range(28, 35))  # hidden for 8 frames, then 7 more detections
    assert not classify(first, CFG, 1, 360).falling  # not yet the drop of a second of free fall
    assert len(second) < 8  # too short to judge alone
    joiner = FragmentJoiner()
    joiner.keep(first)
    (found_piece, whole), = joiner.joins(second)
    assert found_piece is first
    assert whole.frames == first.frames + second.frames
    verdict = classify(whole, CFG, 1, 360)
    assert verdict.falling, verdict.reason
    assert verdict.floor == 18


def test_pieces_that_do_not_line_up_are_not_joined() -> None:
    joiner = FragmentJoiner()
    joiner.keep(piece(range(20)))
    assert joiner.joins(piece(range(40, 48))) == []  # too long a gap
    assert joiner.joins(piece(range(28, 35), x=420.0)) == []  # far off to the side
    above = track_from([(k / FPS, 320.0, RELEASE_ROW - 20.0 + k) for k in range(28, 36)], start=28)
    assert joiner.joins(above) == []  # starts higher up than the first piece ended
    joiner.keep(track_from([(k / FPS, 100.0, 200.0 - k) for k in range(5)]))  # went up: not kept
    assert len(joiner.pieces) == 1


def test_detector_reports_a_fall_hidden_for_longer_than_a_track_survives() -> None:
    """A dark object drops, vanishes for 8 frames (dark windows), shows for 7 more and lands on a podium roof."""
    rng = np.random.default_rng(3)
    base = np.full((360, 640), 128, np.uint8)
    det = Detector(CFG)
    events = []
    for i in range(60):
        img = np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)
        k = i - 10  # released at frame 10
        if 0 <= k < 35 and not 20 <= k < 28:
            r = round(row_at(k))
            img[r - 2:r + 2, 318:322] = 30
        events += det.feed(img, i, i / FPS)
    events += det.finish()
    assert len(events) == 1
    assert det.stats.joined == 1
    ev = events[0]
    assert ev.floor == 18
    assert ev.frame_start <= 12
    assert ev.frame_end >= 42


def test_second_part_of_a_split_fall_is_not_reported_again_even_after_a_stray_last_blob() -> None:
    """The first part's very last blob was a stray beside the path; the second part still continues the fall."""
    det = Detector(CFG)
    det.full_height = 1080
    path = [(k, 880.0 - 0.5 * k, 160.0 + 0.1 * k * k) for k in range(36, 78)]
    first = LitteringEvent("frag", 36, 78, 1.8, 3.9, (896.0, 160.0), 21, 0.9, [*path, (78, 904.0, 464.0)])
    det._recent = [first]
    second_path = [(k, 880.0 - 0.5 * k, 160.0 + 0.1 * k * k) for k in range(79, 100)]
    second = LitteringEvent("frag", 79, 99, 3.95, 4.95, (859.0, 480.0), 20, 0.9, second_path)
    assert det._duplicate(second)
    elsewhere = LitteringEvent("frag", 79, 99, 3.95, 4.95, (300.0, 480.0), 20, 0.9,
                               [(f, x - 500.0, y) for f, x, y in second_path])
    assert not det._duplicate(elsewhere)


def test_two_objects_falling_together_from_one_column_are_two_falls() -> None:
    """The upper object's track starts after the lower one's first part ended, in the same column: by then the
    lower object had fallen on, far below where the upper one is seen."""
    det = Detector(CFG)
    det.full_height = 1080
    def lower_row(k: int) -> float:
        return 280.0 + 2.5 * (k - 42) + 0.18 * (k - 42) ** 2

    lower = [(k, 920.0, lower_row(k)) for k in range(42, 56)]  # ends at row 343, 7 px per frame
    first = LitteringEvent("frag", 42, 55, 2.1, 2.75, (920.0, 258.0), 16, 0.9, lower)
    det._recent = [first]
    upper = [(k, 913.0, 292.0 + 0.3 * (k - 62) ** 2) for k in range(62, 98)]  # 51 px above the lower's end
    second = LitteringEvent("frag", 62, 97, 3.1, 4.85, (913.0, 132.0), 20, 0.9, upper)
    assert not det._duplicate(second)
    continued = [(k, 920.0, lower_row(k)) for k in range(58, 86)]
    assert det._duplicate(LitteringEvent("frag", 58, 85, 2.9, 4.25, (920.0, 258.0), 16, 0.9, continued))


def test_a_track_that_takes_over_the_object_before_the_first_one_ends_is_the_same_fall() -> None:
    """A big object's blob split: the second track began 4 frames before the first ended, and at the first's end
    both were on the object (the second begins *above* the first's end, so a start-against-end test misses it)."""
    det = Detector(CFG)
    det.full_height = 1080
    def row(k: int) -> float:
        return 375.0 + 0.11 * (k - 70) ** 2

    first = LitteringEvent("frag", 70, 130, 2.8, 5.2, (1077.0, 375.0), 17, 0.97,
                           [(k, 1070.0, row(k)) for k in (*range(70, 116, 2), 124, 130)])
    det._recent = [first]
    taken_over = [(k, 1058.0, row(k) - 25.0) for k in range(126, 152)]
    assert det._duplicate(LitteringEvent("frag", 126, 151, 5.0, 6.05, (1086.0, 225.0), 22, 0.66, taken_over))


def test_two_objects_falling_at_once_in_one_column_are_two_falls_while_both_are_seen() -> None:
    """Released 10 frames apart: while both tracks run, they are 40 px and more apart, and at the first one's end
    the second is far above it."""
    det = Detector(CFG)
    det.full_height = 1080
    first = LitteringEvent("frag", 74, 133, 2.96, 5.32, (738.0, 261.0), 14, 1.0,
                           [(k, 738.0 + 0.15 * (k - 74), 261.0 + 0.13 * (k - 74) ** 2) for k in range(74, 134)])
    det._recent = [first]
    second = [(k, 740.0 + 0.1 * (k - 84), 302.0 + 0.13 * (k - 84) ** 2) for k in range(84, 141)]
    assert not det._duplicate(LitteringEvent("frag", 84, 140, 3.36, 5.6, (742.0, 302.0), 13, 1.0, second))


def test_a_later_part_drifting_sideways_is_found_where_the_object_was_heading() -> None:
    """Thrown outward, the object drifts 4 px a frame sideways; lost for 25 frames (1.25 s), it is seen again 100 px
    aside of where the first part ended, and as far aside as its drift carried it."""
    det = Detector(CFG)
    det.full_height = 1080
    path = [(k, 736.0 - 4.0 * (k - 45), 274.0 + 0.15 * (k - 45) ** 2) for k in range(45, 70)]
    first = LitteringEvent("frag", 45, 69, 2.25, 3.45, (735.0, 274.0), 16, 0.9, path)
    det._recent = [first]
    later = [(k, 736.0 - 4.0 * (k - 45), 274.0 + 0.15 * (k - 45) ** 2) for k in range(94, 108)]
    assert det._duplicate(LitteringEvent("frag", 94, 107, 4.7, 5.35, (746.0, 239.0), 17, 0.8, later))
    other_side = [(k, x + 200.0, y) for k, x, y in later]
    assert not det._duplicate(LitteringEvent("frag", 94, 107, 4.7, 5.35, (946.0, 239.0), 17, 0.8, other_side))
    much_later = [(k + 40, x, y) for k, x, y in later]  # 3.25 s after the first part: another object
    assert not det._duplicate(LitteringEvent("frag", 134, 147, 6.7, 7.35, (746.0, 239.0), 17, 0.8, much_later))


def test_a_piece_is_kept_without_the_strays_its_track_ran_on_to() -> None:
    """The tracker kept the track alive on two blobs off the path after the object vanished; the next piece must
    still line up with where the object was."""
    first = piece(range(20))
    for k, dy in ((26, 60.0), (29, 90.0)):
        first.add(k, k / FPS, 320.0 + 40.0, row_at(k) + dy, 9)
    joiner = FragmentJoiner()
    joiner.keep(first)
    (kept,) = joiner.pieces
    assert kept.frames == list(range(20))
    second = piece(range(28, 35))
    ((_, whole),) = joiner.joins(second)
    assert classify(whole, CFG, 1, 360).falling


def test_dense_descent_is_preferred_to_a_longer_sparse_run_on() -> None:
    frames = np.array([*range(20), 30, 34, 38, 42, 46])
    y = np.array([100.0 + 2 * k for k in range(20)] + [10.0, 100.0, 200.0, 300.0, 400.0])
    assert falling_span(y, 3.0) == (20, 25)  # by drop alone: the scattered run-on
    assert falling_span(y, 3.0, frames, 0.7) == (0, 20)


def test_three_pieces_with_hidden_stretches_are_one_fall_seen_in_every_frame_it_could_be() -> None:
    """Crossing two slabs of its own grey the object vanishes twice for 8 frames: 29 detections over 45 frames
    would be too sparse, but the hidden frames are explained by the join, and the whole passes.
    """
    first, second, third = piece(range(12)), piece(range(20, 27)), piece(range(35, 45))
    joiner = FragmentJoiner()
    joiner.keep(first)
    (_, two), = joiner.joins(second)
    assert two.hidden == [(12, 8)]
    assert two.seen_frames().tolist() == list(range(19))
    joiner.keep(second)
    joiner.keep(two)
    wholes = [whole for _, whole in joiner.joins(third)]
    three = max(wholes, key=len)
    assert three.frames == first.frames + second.frames + third.frames
    assert three.seen_frames().tolist() == list(range(29))
    verdict = classify(three, CFG, 1, 360)
    assert verdict.falling, verdict.reason
    assert verdict.floor == 18


def test_two_tracks_sharing_the_object_for_a_few_frames_join_where_the_later_one_begins() -> None:
    """A blob that split in two for a moment: the earlier track is cut where the later one takes over."""
    first, second = piece(range(14)), piece(range(12, 24))
    joiner = FragmentJoiner()
    joiner.keep(first)
    (_, whole), = joiner.joins(second)
    assert whole.frames == list(range(24))
    assert whole.hidden == []
    assert classify(whole, CFG, 1, 360).falling


def test_two_joins_of_the_same_pieces_that_both_pass_are_one_fall() -> None:
    """A piece joined to two alternative continuations: both wholes start at the piece's first point."""
    det = Detector(CFG)
    det.full_height = 1080
    path = [(k, 600.0, 100.0 + 0.2 * k * k) for k in range(10, 40)]
    first = LitteringEvent("frag", 10, 39, 0.5, 1.95, (600.0, 100.0), 20, 0.9, path)
    det._recent = [first]
    other = LitteringEvent("frag", 10, 41, 0.5, 2.05, (600.0, 100.0), 20, 0.9, [*path[:-4], (41, 600.0, 436.0)])
    assert det._duplicate(other)
    later = LitteringEvent("frag", 12, 41, 0.6, 2.05, (300.0, 100.0), 20, 0.9, [(f, x - 300.0, y) for f, x, y in path])
    assert not det._duplicate(later)  # another column: another fall


def test_a_joined_fall_keeps_the_crowd_counts_of_both_pieces() -> None:
    """The classifier's look-elsewhere charge reads ``gated`` per point: a joined track must carry it, in order."""
    first, second = piece(range(20)), piece(range(28, 35))
    first.gated = [3] * len(first)
    second.gated = [5] * len(second)
    whole = joined(first, second)
    assert whole.gated == [3] * len(first) + [5] * len(second)
    second.gated = []  # a piece without counts: the whole has none, and pays no charge
    assert joined(first, second).gated == []
