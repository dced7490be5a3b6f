"""A camera's learned activity map, as the console's camera wall draws it over the picture."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.models.base import ApiModel


class ActivityMap(ApiModel):
    """Where motion is habitual in a camera's picture: a grid of rates over whole cells of the frame, row by row."""

    camera_id: str
    rows: int
    cols: int
    cell_px: float = Field(description="a cell's side in full-resolution px; whole cells from the top left, a "
                           "strip narrower than a cell at the right and bottom is not covered")
    width: int = Field(description="full-resolution width of the frames the map was learnt on")
    height: int
    values: list[list[float]] = Field(description="rows x cols shares of frames with motion in the cell, 0-1")
    usual_rate: float = Field(description="the picture's usual rate (median over cells: noise, rain, snow)")
    quiet_rate: float = Field(description="cells more than this above the usual rate hold habitual motion: a fall "
                              "through them needs more evidence")
    observed_h: float = Field(description="hours of frames the map is made of")
    warm: bool = Field(description="whether the map has watched long enough to act (EW_ACTIVITY_MAP_WARMUP_H)")
    updated_at: datetime
