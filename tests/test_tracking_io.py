"""The tracks CSV: round trip, header contract and refused inputs."""

import numpy as np
import pytest

from common.errors import InputError
from tracker.tracks_io import COLUMNS, TrackTable, read_tracks, write_tracks


def sample_table() -> TrackTable:
    states = np.array([[1.5, -2.25, 3.0, 0.5], [100.0, 200.0, -1.0, 0.0]])
    covariances = np.tile(np.array([[4.0, 0.5, 0, 0], [0.5, 9.0, 0, 0], [0, 0, 1, 0],
                                    [0, 0, 0, 1]]), (2, 1, 1))
    first = TrackTable.from_states(1, np.array([7, 2]), states, covariances,
                                   np.array([True, False]))
    second = TrackTable.from_states(2, np.array([7]), states[:1], covariances[:1],
                                    np.array([True]))
    return TrackTable.concatenate([first, second])


def test_round_trip_keeps_every_value_and_sorts_by_frame_then_id(tmp_path):
    path = tmp_path / "tracks.csv"
    write_tracks(path, sample_table())
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    table = read_tracks(path)
    np.testing.assert_array_equal(table.frame, [1, 1, 2])
    np.testing.assert_array_equal(table.id, [2, 7, 7])
    np.testing.assert_allclose(table.positions, [[100, 200], [1.5, -2.25], [1.5, -2.25]])
    np.testing.assert_allclose(table.cov_xy, [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(table.confirmed, [False, True, True])


def test_empty_table_round_trips(tmp_path):
    path = tmp_path / "empty.csv"
    write_tracks(path, TrackTable.concatenate([]))
    assert len(read_tracks(path)) == 0


@pytest.mark.parametrize(("text", "message"), [
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,confirmed\n1,1,0,0,0,0,1,0,1\n", "lacks column"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n1,1,nan,0,0,0,1,0,1,1\n", "NaN"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n0,1,0,0,0,0,1,0,1,1\n", "frame"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n1.5,1,0,0,0,0,1,0,1,1\n", "frame"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n1,1,0,0,0,0,1,0,1,2\n", "confirmed"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n1,1,a,0,0,0,1,0,1,1\n", "non-numeric"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n1,1,0,0\n", "number of fields"),
    ("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n1,1,0,0,0,0,1,0,1,1\n"
     "1,1,5,0,0,0,1,0,1,1\n", "twice"),
])
def test_bad_tracks_files_raise_input_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_tracks(path)


def test_missing_tracks_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="no such tracks file"):
        read_tracks(tmp_path / "nothing.csv")
