//! `report.html`: one self-contained page (inline CSS and SVG, no network) with the attendance
//! table, a per-rank timeline and the timing summary — what to open first after a run.

use std::fmt::Write as _;

use anyhow::Result;

use super::RANK_COLOURS;
use base64::Engine as _;

use crate::attendance::result::RunResult;
use crate::config::Rule;

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }
th { background: #ddebf7; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; border-radius: 0.3rem; padding: 0.1rem 0.5rem; }
.Present { background: #c6efce; color: #006100; } .Absent { background: #ffc7ce; color: #9c0006; }
.bar { background: #eee; height: 0.6rem; border-radius: 0.3rem; width: 8rem; display: inline-block; vertical-align: middle; }
.bar span { display: block; height: 100%; background: #4472c4; border-radius: 0.3rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { background: #f5f7fa; border-radius: 0.5rem; padding: 0.6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.3rem; }
.strip { display: inline-flex; gap: 1px; vertical-align: middle; }
.strip i { width: 0.55rem; height: 0.9rem; background: #eee; display: inline-block; }
.strip i.seen { background: #4472c4; }
.flag { color: #9c5700; font-size: 0.85rem; }
img.crop { width: 48px; border-radius: 0.3rem; vertical-align: middle; }
.warn { background: #fff4ce; border-left: 4px solid #ffc000; padding: 0.5rem 1rem; }
svg text { font-size: 11px; fill: #333; }
";

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn mmss(t: Option<f64>) -> String {
    t.map(|t| format!("{:02}:{:02}", (t / 60.0) as u64, t as u64 % 60)).unwrap_or_default()
}

/// The page. Writing into a `String` cannot fail; the `fmt::Result`s are passed up rather than
/// dropped so that no `write!` is silently ignored.
pub fn render(r: &RunResult) -> Result<String, std::fmt::Error> {
    let mut h = String::new();
    let title =
        [r.settings.date.as_deref(), r.settings.title.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    let title = if title.is_empty() { r.video.path.clone() } else { title };
    let present = r.attendance.iter().filter(|a| a.present).count();
    write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Attendance: {t}</title><style>{STYLE}</style></head><body>\n\
         <h1>Attendance: {t}</h1><p class=\"sub\">{video} · {frames} sampled frames ({which} every {stride} of {fc} at {fps:.2} fps) · rollcall {ver}</p>\n",
        t = esc(&title),
        video = esc(&r.video.path),
        frames = r.sampled_frames,
        stride = r.stride,
        which = match r.settings.sample {
            crate::config::Sample::Frames => "one",
            crate::config::Sample::Keyframes => "the keyframe nearest one",
        },
        fc = r.video.frame_count,
        fps = r.video.fps,
        ver = env!("CARGO_PKG_VERSION"),
    )?;
    writeln!(
        h,
        "<div class=\"cards\"><div class=\"card\"><b id=\"present\">{present}</b>present</div><div class=\"card\"><b id=\"absent\">{}</b>absent</div>\
         <div class=\"card\"><b id=\"unenrolled\">{}</b>unenrolled attended</div><div class=\"card\"><b>{}</b>faces found</div><div class=\"card\"><b>{:.1} s</b>on {} rank(s)</div><div class=\"card\"><b>{:.2}</b>frames/s</div>{}</div>",
        r.attendance.len() - present,
        r.unknown.len(),
        r.detections.len(),
        r.wall_time_s,
        r.ranks,
        r.timings.iter().map(|t| t.frames).sum::<u64>() as f64 / r.wall_time_s.max(1e-9),
        r.core_seconds_per_lecture_minute().map_or(String::new(), |cost| format!(
            "<div class=\"card\"><b id=\"cost\">{cost:.1}</b>core-seconds per lecture-minute</div>"
        )),
    )?;
    if !r.failed_frames.is_empty() {
        writeln!(
            h,
            "<p class=\"warn\">{} sampled frame(s) could not be decoded and were left out of every count.</p>",
            r.failed_frames.len()
        )?;
    }
    if !r.settings.parallel.slow_ranks.is_empty() {
        writeln!(
            h,
            "<p class=\"warn\">Benchmark run: bench.slow_ranks = {} slowed ranks on purpose.</p>",
            esc(&r.settings.slow_ranks_text())
        )?;
    }

    h.push_str("<h2>Attendance</h2>\n<table id=\"attendance\"><thead><tr><th>Face</th><th>Student ID</th><th>Name</th><th class=\"num\">Frames</th><th>Windows</th><th>Presence</th><th>First seen</th><th>Last seen</th><th>Status</th></tr></thead><tbody>\n");
    for (i, a) in r.attendance.iter().enumerate() {
        let crop = match r.crops.get(i).filter(|c| !c.is_empty()) {
            Some(jpeg) => format!(
                "<img class=\"crop\" alt=\"best face of {}\" src=\"data:image/jpeg;base64,{}\">",
                esc(&a.student_id),
                base64::engine::general_purpose::STANDARD.encode(jpeg)
            ),
            None => String::new(),
        };
        let strip: String = a.strip.iter().map(|&s| if s { "<i class=\"seen\"></i>" } else { "<i></i>" }).collect();
        let flag =
            |on: bool, text: &str| if on { format!(" <span class=\"flag\">{text}</span>") } else { String::new() };
        writeln!(
            h,
            "<tr data-student=\"{id}\"><td>{crop}</td><td>{id}</td><td>{name}</td><td class=\"num\">{seen}/{n}</td>\
             <td><span class=\"strip\" title=\"{ws}/{w} windows\">{strip}</span> {ws}/{w}</td>\
             <td><span class=\"bar\"><span style=\"width:{pct:.1}%\"></span></span> {pct:.1}%</td><td>{first}{late}</td><td>{last}{early}</td>\
             <td><span class=\"status {status}\">{status}</span></td></tr>",
            id = esc(&a.student_id),
            name = esc(&a.name),
            seen = a.frames_seen,
            n = a.sampled_frames,
            ws = a.windows_seen,
            w = a.windows,
            pct = a.presence * 100.0,
            first = mmss(a.first_seen_s),
            late = flag(a.late(), "late"),
            last = mmss(a.last_seen_s),
            early = flag(a.left_early(), "left early"),
            status = a.status(),
        )?;
    }
    let rule = match r.settings.attendance.rule {
        Rule::Windows => {
            format!(
                "seen in at least {:.0}% of the {:.0}-second windows",
                r.settings.attendance.threshold * 100.0,
                r.window_s
            )
        }
        Rule::Frames => {
            format!("seen in at least {:.0}% of the sampled frames", r.settings.attendance.threshold * 100.0)
        }
    };
    writeln!(
        h,
        "</tbody></table><p class=\"sub\">Present: {rule}. Faces are linked into tracks over time; a track counts for the student most of its faces match.</p>"
    )?;
    if !r.unknown.is_empty() {
        // With their encodings kept (--keep-unknown), each can be enrolled from this result.
        let kept = r.unknown.iter().any(|u| !u.encoding.is_empty());
        h.push_str("<h2>Unenrolled attendees</h2>\n<table id=\"unknown\"><thead><tr><th>Person</th><th class=\"num\">Frames</th><th class=\"num\">Windows</th><th>First seen</th><th>Last seen</th>");
        h.push_str(if kept { "<th>To enrol them</th></tr></thead><tbody>\n" } else { "</tr></thead><tbody>\n" });
        let result = r.settings.output.join(super::RESULT_FILE);
        for u in &r.unknown {
            let enrol = match u.encoding.is_empty() {
                true => String::new(),
                false => format!(
                    "<td><code>rollcall enroll --from-run {} --unknown {} --as ID --name NAME --roster {}</code></td>",
                    esc(&result.display().to_string()),
                    u.id + 1,
                    esc(&r.settings.roster.display().to_string())
                ),
            };
            writeln!(
                h,
                "<tr><td>unenrolled #{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td>{enrol}</tr>",
                u.id + 1,
                u.frames_seen,
                u.windows_seen,
                mmss(Some(u.first_seen_s)),
                mmss(Some(u.last_seen_s))
            )?;
        }
        h.push_str("</tbody></table>\n");
    }

    h.push_str("<h2>Timeline</h2>\n");
    h.push_str(&timeline_svg(r)?);

    h.push_str("<h2>Where the time went</h2>\n<table id=\"ranks\"><thead><tr><th>Rank</th><th class=\"num\">Units</th><th class=\"num\">Frames</th><th class=\"num\">Decode s</th><th class=\"num\">Detect s</th><th class=\"num\">Encode s</th><th class=\"num\">Wait s</th><th class=\"num\">Busy s</th><th class=\"num\">Total s</th><th class=\"num\">Busy</th></tr></thead><tbody>\n");
    for t in &r.timings {
        writeln!(
            h,
            "<tr><td>rank {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.0}%</td></tr>",
            t.rank, t.units, t.frames, t.decode_s, t.detect_s, t.encode_s, t.wait_s, t.busy_s, t.total_s, 100.0 * t.busy_s / t.total_s.max(1e-9)
        )?;
    }
    h.push_str("</tbody></table>\n<h2>Settings</h2>\n<table id=\"settings\"><tbody>\n");
    for (k, v) in r.settings.describe().into_iter().filter(|(_, v)| !v.is_empty()) {
        writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v))?;
    }
    h.push_str("</tbody></table>\n<h2>Provenance</h2>\n<table id=\"provenance\"><tbody>\n");
    for (k, v) in r.software.iter().chain(&r.job) {
        writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v))?;
    }
    for host in &r.hosts {
        writeln!(h, "<tr><th>rank {} ran on</th><td>{}</td></tr>", host.rank, esc(&crate::about::describe_host(host)))?;
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    Ok(h)
}

/// One row per rank, one bar per unit from its start to its end.
fn timeline_svg(r: &RunResult) -> Result<String, std::fmt::Error> {
    const LEFT: f64 = 60.0;
    const WIDTH: f64 = 840.0;
    const ROW: f64 = 26.0;
    let end = r.units.iter().map(|u| u.end_s).fold(0.0, f64::max).max(1e-9);
    let ranks = r.ranks.max(1);
    let height = ROW * ranks as f64 + 30.0;
    let x = |t: f64| LEFT + (WIDTH - LEFT - 30.0) * t / end;
    let mut s = format!("<svg id=\"timeline\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"which rank ran each unit, when\">\n");
    for rank in 0..ranks {
        writeln!(s, "<text x=\"4\" y=\"{:.1}\">rank {rank}</text>", ROW * rank as f64 + 17.0)?;
    }
    for u in &r.units {
        let y = ROW * u.rank as f64 + 4.0;
        writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" stroke=\"#fff\"><title>unit {}: {:.2}–{:.2} s, {} frames</title></rect>",
            x(u.start_s),
            (x(u.end_s) - x(u.start_s)).max(1.0),
            ROW - 8.0,
            RANK_COLOURS[u.rank as usize % RANK_COLOURS.len()],
            u.unit,
            u.start_s,
            u.end_s,
            u.frames
        )?;
    }
    let axis_y = ROW * ranks as f64 + 16.0;
    for k in 0..=5 {
        let t = end * k as f64 / 5.0;
        writeln!(s, "<text x=\"{:.1}\" y=\"{axis_y:.1}\" text-anchor=\"middle\">{t:.1} s</text>", x(t))?;
    }
    s.push_str("</svg>\n");
    Ok(s)
}
