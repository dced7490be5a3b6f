// The camera wall: the latest frame of every camera, refreshed while the view is open, with its name, tower,
// last-frame age and an offline mark. A camera that never sent a frame gets a placeholder, never a broken image,
// and its frame URL is not even asked for (it would only answer 404 every refresh).

import * as api from "./api.js";
import { t } from "./i18n.js";
import { $, duration, el } from "./util.js";

const tiles = new Map(); // camera id -> tile: refreshes swap frames in place, so the wall does not flicker
/** "green" streaming, "amber" late (over 5 s), "red" offline (silent by the server's measure, over 10 s without a
 * frame), "grey" never sent a frame.
 */
export function cameraHealth(camera) {
  if (camera.age_s === null) return "grey";
  if (camera.silent) return "red";
  return camera.age_s > 5 ? "amber" : "green";
}

function makeTile(camera) {
  const id = camera.camera_id;
  const tile = { overlay: false, loaded: false };
  tile.img = el("img", { alt: t("latest frame of {id}", { id }), title: t("Click: calibration overlay"), hidden: true });
  tile.placeholder = el("div", { class: "placeholder", role: "img", "aria-label": t("No frame received yet") },
    t("No frame received yet"));
  tile.img.addEventListener("load", () => {
    tile.loaded = true;
    tile.img.hidden = false;
    tile.placeholder.hidden = true;
  });
  tile.img.addEventListener("error", () => { // gone between the list and the request: keep the last good picture
    if (!tile.loaded) {
      tile.img.hidden = true;
      tile.placeholder.hidden = false;
    }
  });
  tile.img.addEventListener("click", () => {
    tile.overlay = !tile.overlay;
    tile.img.title = tile.overlay ? t("Calibration overlay (click: live frame)") : t("Click: calibration overlay");
    refresh(tile);
  });
  addActivity(tile, id);
  tile.dot = el("span", { class: "dot grey" });
  tile.name = el("span", {});
  tile.tower = el("span", { class: "muted" });
  tile.badge = el("span", { class: "badge offline", hidden: true }, t("offline"));
  tile.meta = el("span", { class: "muted" });
  tile.figure = el("figure", { class: "camera", dataset: { camera: id } }, tile.placeholder, tile.img,
    tile.activity.canvas,
    el("figcaption", { class: "meta" }, el("span", {}, tile.dot, tile.name, tile.tower, tile.badge), tile.meta),
    el("div", { class: "meta" }, tile.activity.button, tile.activity.note));
  tile.figure.style.position = "relative"; // the activity canvas lies over the frame (CSSOM: allowed by the CSP)
  return tile;
}

/** The learned nuisance zones of a camera (docs/cameras.md): a button that lays the activity map over the frame,
 * one canvas pixel per cell, stretched over the cells it covers; busier cells are more opaque, and cells of habitual
 * motion (above the picture's usual rate by more than the tolerance: a fall there needs more evidence) are
 * orange. Masks are not drawn: masked areas never move, so they stay clear.
 */
function addActivity(tile, id) {
  const canvas = el("canvas", { class: "activity-map", hidden: true, "aria-hidden": "true" });
  Object.assign(canvas.style, { position: "absolute", left: "0", top: "0", width: "100%", aspectRatio: "16 / 9",
    objectFit: "cover", pointerEvents: "none", imageRendering: "pixelated" }); // cropped like the frame
  const note = el("span", { class: "muted activity-note" });
  const button = el("button", { type: "button", class: "activity-toggle", "aria-pressed": "false",
    title: t("Where motion is habitual: a fall there needs more evidence") }, t("Activity map"));
  tile.activity = { canvas, note, button, shown: false };
  button.addEventListener("click", () => toggleActivity(tile, id));
}

async function toggleActivity(tile, id) {
  const overlay = tile.activity;
  overlay.shown = !overlay.shown;
  overlay.button.setAttribute("aria-pressed", String(overlay.shown));
  overlay.canvas.hidden = true;
  overlay.note.textContent = "";
  if (!overlay.shown) return;
  let activity;
  try {
    activity = await api.get(`/api/v1/cameras/${encodeURIComponent(id)}/activity`);
  } catch (err) {
    overlay.note.textContent = err.status === 404 ? t("No activity map saved yet") : err.message;
    return;
  }
  if (!overlay.shown) return; // switched off while the map was on its way
  drawActivity(overlay.canvas, activity);
  overlay.canvas.hidden = false;
  const hours = activity.observed_h.toFixed(1);
  overlay.note.textContent = activity.warm ? t("{h} h watched · {n} busy cells", { h: hours,
    n: cellsOf(activity).filter((v) => v > habitualAbove(activity)).length })
    : t("warming up: {h} h watched, no effect yet", { h: hours });
}

/** The rate above which a cell holds habitual motion: the picture's usual rate plus the tolerance. */
function habitualAbove(activity) {
  return activity.usual_rate + activity.quiet_rate;
}

/** The map's rates row after row, one number per cell. */
function cellsOf(activity) {
  return [].concat(...activity.values);
}

function drawActivity(canvas, activity) {
  canvas.width = activity.cols;
  canvas.height = activity.rows;
  // the grid covers whole cells from the top left: a strip narrower than a cell at the right and bottom is not
  // watched, so the canvas spans the grid's share of the frame, not all of it
  const span = (activity.cols * activity.cell_px) / activity.width;
  canvas.style.width = `${(100 * Math.min(1, span)).toFixed(3)}%`;
  canvas.style.aspectRatio = `${activity.cols * activity.cell_px} / ${activity.rows * activity.cell_px}`;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(activity.cols, activity.rows);
  const above = habitualAbove(activity);
  cellsOf(activity).forEach((v, i) => {
    const busy = v > above;
    const alpha = v > 0 ? Math.round(40 + 180 * Math.min(1, v)) : 0;
    image.data.set(busy ? [255, 140, 0, alpha] : [80, 160, 255, alpha], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

function refresh(tile) {
  const shown = tile.camera;
  if (shown.age_s === null) return; // nothing to show yet: the placeholder stays
  const url = tile.overlay ? shown.calibration : shown.latest_frame;
  tile.img.src = `${url}${url.includes("?") ? "&" : "?"}t=${Date.now()}`;
}

/** Draw or refresh the wall from GET /api/v1/cameras. */
export async function showCameras() {
  const cams = await api.cameras.list();
  const grid = $("#cameras");
  let notStreaming = 0;
  const seen = new Set();
  for (const camera of cams) {
    const id = camera.camera_id;
    seen.add(id);
    let tile = tiles.get(id);
    if (!tile) {
      tile = makeTile(camera);
      tiles.set(id, tile);
    }
    tile.camera = camera;
    const health = cameraHealth(camera);
    if (health !== "green") notStreaming += 1;
    tile.figure.dataset.health = health;
    tile.dot.className = `dot ${health}`;
    tile.name.textContent = camera.name ?? id;
    tile.tower.textContent = camera.building ? ` · ${t("Bldg {b}", { b: camera.building })}` : "";
    tile.badge.hidden = health !== "red";
    const fps = camera.fps === null ? "–" : camera.fps.toFixed(1);
    tile.meta.textContent = t("{fps} fps · {age}", { fps,
      age: camera.age_s === null ? t("no frames") : t("{time} ago", { time: duration(camera.age_s) }) })
      + (camera.width && camera.height ? ` · ${camera.width}×${camera.height}` : "");
    refresh(tile);
    grid.append(tile.figure); // keeps camera order; an existing tile just moves into place
  }
  for (const [id, tile] of tiles) {
    if (!seen.has(id)) {
      tile.figure.remove();
      tiles.delete(id);
    }
  }
  for (const node of [...grid.children]) if (!node.dataset.camera) node.remove();
  if (!cams.length) grid.append(el("p", { class: "empty" }, t("No cameras have sent frames yet.")));
  $("#cameras-summary").textContent = t("{n} cameras, {m} not streaming", { n: cams.length, m: notStreaming });
}
