#pragma once
// The HTML report's fixed parts: its style sheet and the legend that says what a
// timeline draws and where each thing comes from in result.json.
#include <string_view>

namespace ktstr::cli {

inline constexpr std::string_view kReportCss = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2937;background:#fff}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:22px 0 6px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d1d5db;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.message{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px;max-width:720px;overflow-wrap:anywhere}
.dim{color:#6b7280}.facts{margin:2px 0}.note{color:#92400e;margin:2px 0}
.banner{background:#fef3c7;border:1px solid #f59e0b;padding:6px 10px}
.verdict{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600;color:#fff;background:#6b7280}
.v-pass{background:#15803d}.v-fail,.v-error{background:#b91c1c}.v-inconclusive{background:#b45309}.v-skip,.v-same{background:#6b7280}
td.met{color:#15803d}td.unmet,.expectation.unmet{color:#b91c1c}.expectation.met{color:#15803d}
section.run{border-top:1px solid #e5e7eb;margin-top:18px}
.timeline-box{overflow-x:auto}svg.timeline{display:block;max-width:none}
svg text{font:11px system-ui,sans-serif;fill:#374151}.lane-label{font-weight:600}
.row-bg{fill:#f9fafb}.axis line{stroke:#9ca3af;stroke-width:1}.axis line.grid{stroke:#e5e7eb}
.depth{fill:rgba(71,85,105,.35);stroke:#475569;stroke-width:.6}
.mark.freeze{fill:rgba(37,99,235,.16);stroke:#2563eb;stroke-width:.6}.mark.freeze.sev-fail{fill:rgba(220,38,38,.18);stroke:#dc2626}
.mark.fault{fill:rgba(220,38,38,.3);stroke:#b91c1c;stroke-width:1}.mark.fault.sev-planned{fill:none;stroke-dasharray:3 2}
.mark.watch-hit{fill:#f59e0b;stroke:#78350f;stroke-width:.8}
.mark.sched-exit{fill:#7c3aed;stroke:#2e1065;stroke-width:.8}.mark.sched-exit.sev-fail{fill:#dc2626}
.mark.finding{fill:#6b7280;stroke:#111827;stroke-width:.8}.mark.finding.sev-fail{fill:#dc2626}.mark.finding.sev-inconclusive{fill:#d97706}
.mark.scheduler{fill:#0d9488;stroke:#134e4a;stroke-width:.8}.mark.scheduler.sev-fail{fill:#dc2626}
.mark.step{fill:#64748b}.mark.step.sev-inconclusive{fill:#d97706}
ul.tasks{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 14px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border:1px solid #9ca3af}
#legend{margin:14px 0}#legend summary{font-weight:600;cursor:pointer}#legend dt{font-weight:600}#legend dd{margin:0 0 4px 18px}
footer{margin-top:24px;color:#6b7280;font-size:12px}
)css";

inline constexpr std::string_view kLegendHtml = R"html(<details id="legend"><summary>How to read a timeline</summary>
<p>Time runs left to right in seconds from the VM's start (host time). Hover over anything for its details.</p>
<dl>
<dt>CPU lanes</dt><dd>One per guest CPU. The coloured band on top is the task the CPU was running (<code>curr</code>) at each
of the monitor's samples of guest memory (<code>monitor.samples</code>, every <code>period_ms</code>), held until the next
sample: it shows what ran at the sampling instants, not every context switch. Each task name keeps its colour; grey is
the idle task.</dd>
<dd>The grey shading below is the run queue's depth, <code>nr_running</code> (the running task included), on one scale
for every CPU of the run.</dd>
<dt>events row</dt><dd>Marks that belong to no CPU: scheduler events, scenario steps, findings and faults without a CPU.</dd>
<dt><svg width="16" height="14"><rect class="mark freeze" x="1" y="1" width="14" height="12"/></svg> freeze</dt>
<dd>Every vCPU stopped for a snapshot (<code>freezes.list</code>); red when it was partial.</dd>
<dt><svg width="16" height="14"><rect class="mark fault" x="1" y="1" width="14" height="12"/></svg> fault</dt>
<dd>A fault injected from the host on that vCPU's lane, from when it was applied to when it ended (<code>faults</code>);
dashed: planned but never applied.</dd>
<dt><svg width="16" height="14"><path class="mark watch-hit" d="M8 1l6 6l-6 6l-6 -6z"/></svg> watchpoint hit</dt>
<dd>A watched word changed (<code>monitor.watch_events</code>), on the writing vCPU's lane when a hardware hit named it.</dd>
<dt><svg width="16" height="14"><path class="mark sched-exit" d="M8 1l6 6l-6 6l-6 -6z"/></svg> sched_ext exit</dt>
<dd>The sched_ext exit kind changed (<code>monitor.exit_events</code>); red for an error exit.</dd>
<dt><svg width="16" height="14"><path class="mark finding sev-fail" d="M8 13l-6 -10h12z"/></svg> finding</dt>
<dd>A failed (red) or inconclusive (amber) finding with a time (<code>scenario.findings</code>), on its CPU's lane when it
names one. Guest times (ms since the scenario's start) are placed through the agent's boot report, so they are as exact
as the guest's clock.</dd>
<dt><svg width="16" height="14"><circle class="mark scheduler" cx="8" cy="7" r="5"/></svg> scheduler event,
<svg width="16" height="14"><rect class="mark step" x="7" y="1" width="2" height="12"/></svg> scenario step</dt>
<dd>The scheduler started, enabled, died (red) ... (<code>scenario.scheduler.events</code>); each scenario step as it ran
(<code>scenario.timing.steps</code>).</dd>
</dl></details>
)html";

}  // namespace ktstr::cli
