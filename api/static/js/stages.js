// The 54321 stage clocks of a work order as one line each, shared by the console's dispatch box and the
// responder's page: what the stage is, and how long is left, how late it is, or when it was met.

import { t } from "./i18n.js";
import { duration, localTime } from "./util.js";

const STAGE_NAMES = { on_site: "On site", solve: "Solved", plan: "Plan" };

/** The stage's name in the current language. */
export function stageName(stage) {
  return t(STAGE_NAMES[stage.stage] ?? "Stage");
}

/** "due in 4m 12s", "overdue by 1m 03s, escalated to Li Qiang", "met at 08:42:05 (UTC+8)", "met late at …". */
export function stageText(stage, now = Date.now()) {
  const left = (Date.parse(stage.due_at) - now) / 1000;
  if (stage.met_at) {
    return t(stage.breached_at ? "met late at {time}" : "met at {time}", { time: localTime(stage.met_at) });
  }
  if (left > 0) return t("due in {time}", { time: duration(left) });
  const late = t("overdue by {time}", { time: duration(left) });
  return stage.escalated_to ? `${late}, ${t("escalated to {who}", { who: stage.escalated_to })}` : late;
}

/** The state a clock shows now: pending, met, late or breached (a pending clock past its deadline is breached). */
export function stageState(stage, now = Date.now()) {
  if (stage.met_at) return stage.breached_at ? "late" : "met";
  return stage.breached_at || Date.parse(stage.due_at) <= now ? "breached" : "pending";
}
