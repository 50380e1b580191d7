//! `attendance.xlsx`: the workbook attendance officers open. One sheet per table, with bold
//! frozen headers, number formats and charts, so it reads as finished without any fiddling.

use std::path::Path;

use anyhow::Result;
use rust_xlsxwriter::{
    Chart, ChartFormat, ChartSolidFill, ChartType, ConditionalFormatText, ConditionalFormatTextRule, Format, Workbook,
    Worksheet,
};

use super::RANK_COLOURS;
use crate::attendance::result::{RankTiming, RunResult, UnitRecord};
use crate::util::output::{write_atomically, Access};

const SECONDS_PER_DAY: f64 = 86_400.0;
/// Timeline rows drawn in the Units chart; the sheet itself lists every unit.
const MAX_GANTT_UNITS: usize = 400;

struct Formats {
    header: Format,
    percent: Format,
    clock: Format,
    seconds: Format,
    distance: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap(),
            percent: Format::new().set_num_format("0.0%"),
            clock: Format::new().set_num_format("mm:ss"),
            seconds: Format::new().set_num_format("0.000"),
            distance: Format::new().set_num_format("0.0000"),
        }
    }
}

fn header(ws: &mut Worksheet, f: &Formats, name: &str, columns: &[(&str, f64)]) -> Result<()> {
    ws.set_name(name)?;
    for (col, (title, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *title, &f.header)?;
        ws.set_column_width(col as u16, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    // Printed (or exported to PDF) one page wide, headers repeated on every page.
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    Ok(())
}

/// The workbook's bytes (owner-only when written: it names students).
pub fn render(result: &RunResult) -> Result<Vec<u8>> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    attendance_sheet(wb.add_worksheet(), &f, result)?;
    detections_sheet(wb.add_worksheet(), &f, result)?;
    unknown_sheet(wb.add_worksheet(), &f, result)?;
    ranks_sheet(wb.add_worksheet(), &f, &result.timings, result.settings.parallel.threads)?;
    units_sheet(wb.add_worksheet(), &f, &result.units, result.ranks)?;
    settings_sheet(wb.add_worksheet(), &f, &settings_rows(result))?;
    Ok(wb.save_to_buffer()?)
}

/// A timing-only workbook (Ranks, Units, Settings), for jobs without attendance (`gray`).
pub fn write_timings(
    timings: &[RankTiming],
    units: &[UnitRecord],
    settings: &[(&str, String)],
    path: &Path,
) -> Result<()> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    ranks_sheet(wb.add_worksheet(), &f, timings, 1)?;
    units_sheet(wb.add_worksheet(), &f, units, timings.len())?;
    settings_sheet(wb.add_worksheet(), &f, settings)?;
    save(wb, path, Access::Shared)
}

/// Saves a workbook atomically. Rendered in memory first: a failed write then gives a plain
/// error, where the zip writer saving to a file prints its own message when dropped.
pub fn save(mut wb: Workbook, path: &Path, access: Access) -> Result<()> {
    let bytes = wb.save_to_buffer()?;
    write_atomically(path, access, |tmp| Ok(std::fs::write(tmp, bytes)?))
}

fn attendance_sheet(ws: &mut Worksheet, f: &Formats, result: &RunResult) -> Result<()> {
    header(
        ws,
        f,
        "Attendance",
        &[
            ("Student ID", 14.0),
            ("Name", 24.0),
            ("Sampled frames", 10.0),
            ("Frames seen", 10.0),
            ("Presence", 10.0),
            ("First seen", 10.0),
            ("Last seen", 10.0),
            ("Status", 10.0),
            ("Windows", 9.0),
            ("Windows seen", 9.0),
            ("Presence by window", 24.0),
            ("Flags", 14.0),
            ("Best face", 10.0),
        ],
    )?;
    for (i, a) in result.attendance.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &a.student_id)?;
        ws.write_string(row, 1, &a.name)?;
        ws.write_number(row, 2, a.sampled_frames as f64)?;
        ws.write_number(row, 3, a.frames_seen as f64)?;
        ws.write_number_with_format(row, 4, a.presence, &f.percent)?;
        if let Some(t) = a.first_seen_s {
            ws.write_number_with_format(row, 5, t / SECONDS_PER_DAY, &f.clock)?;
        }
        if let Some(t) = a.last_seen_s {
            ws.write_number_with_format(row, 6, t / SECONDS_PER_DAY, &f.clock)?;
        }
        ws.write_string(row, 7, a.status())?;
        ws.write_number(row, 8, a.windows as f64)?;
        ws.write_number(row, 9, a.windows_seen as f64)?;
        ws.write_string(row, 10, a.strip.iter().map(|&s| if s { '■' } else { '□' }).collect::<String>())?;
        ws.write_string(row, 11, a.flags())?;
        if let Some(jpeg) = result.crops.get(i).filter(|c| !c.is_empty()) {
            ws.set_row_height(row, 40.0)?;
            let image =
                rust_xlsxwriter::Image::new_from_buffer(jpeg)?.set_alt_text(format!("best face of {}", a.student_id));
            ws.insert_image_fit_to_cell(row, 12, &image, true)?;
        }
    }
    if !result.unknown.is_empty() {
        let note = last_row_note(result);
        ws.write_string(result.attendance.len() as u32 + 2, 0, note)?;
    }
    let last = result.attendance.len().max(1) as u32;
    for (word, font, fill) in [("Present", "#006100", "#C6EFCE"), ("Absent", "#9C0006", "#FFC7CE")] {
        let rule = ConditionalFormatText::new()
            .set_rule(ConditionalFormatTextRule::BeginsWith(word.to_string()))
            .set_format(Format::new().set_font_color(font).set_background_color(fill));
        ws.add_conditional_format(1, 7, last, 7, &rule)?;
    }
    ws.autofilter(0, 0, last, 7)?;
    Ok(())
}

/// The line under the attendance table that counts the unenrolled.
fn last_row_note(result: &RunResult) -> String {
    format!("{} unenrolled person(s) attended (see the Unenrolled sheet)", result.unknown.len())
}

fn unknown_sheet(ws: &mut Worksheet, f: &Formats, result: &RunResult) -> Result<()> {
    header(
        ws,
        f,
        "Unenrolled",
        &[
            ("Person", 14.0),
            ("Tracks", 8.0),
            ("Frames seen", 10.0),
            ("Windows seen", 10.0),
            ("First seen", 10.0),
            ("Last seen", 10.0),
        ],
    )?;
    for (i, u) in result.unknown.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, format!("unenrolled #{}", u.id + 1))?;
        ws.write_number(row, 1, u.tracks as f64)?;
        ws.write_number(row, 2, u.frames_seen as f64)?;
        ws.write_number(row, 3, u.windows_seen as f64)?;
        ws.write_number_with_format(row, 4, u.first_seen_s / SECONDS_PER_DAY, &f.clock)?;
        ws.write_number_with_format(row, 5, u.last_seen_s / SECONDS_PER_DAY, &f.clock)?;
    }
    Ok(())
}

fn detections_sheet(ws: &mut Worksheet, f: &Formats, result: &RunResult) -> Result<()> {
    header(
        ws,
        f,
        "Detections",
        &[
            ("Frame", 8.0),
            ("Time", 9.0),
            ("Rank", 6.0),
            ("x (px)", 7.0),
            ("y (px)", 7.0),
            ("w (px)", 7.0),
            ("h (px)", 7.0),
            ("Student ID", 14.0),
            ("Distance", 9.0),
            ("Track", 7.0),
        ],
    )?;
    for (i, d) in result.detections.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, d.frame as f64)?;
        ws.write_number_with_format(row, 1, d.time_s / SECONDS_PER_DAY, &f.clock)?;
        ws.write_number(row, 2, f64::from(d.rank))?;
        for (col, v) in [d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h].into_iter().enumerate() {
            ws.write_number(row, 3 + col as u16, f64::from(v))?;
        }
        if let Some(s) = d.student {
            ws.write_string(row, 7, &result.roster.ids[s as usize])?;
        }
        ws.write_number_with_format(row, 8, d.distance, &f.distance)?;
        if let Some(t) = d.track {
            ws.write_number(row, 9, f64::from(t))?;
        }
    }
    ws.autofilter(0, 0, result.detections.len().max(1) as u32, 9)?;
    Ok(())
}

/// With `threads` > 1 the stage times (thread-seconds in the HDF5 file) are shown per thread,
/// so that a rank's stacked bar adds up to its time.
fn ranks_sheet(ws: &mut Worksheet, f: &Formats, timings: &[RankTiming], threads: usize) -> Result<()> {
    // Stacked in the chart: the stages of busy time, then waiting and communication.
    const STACKED: [&str; 7] =
        ["Decode (s)", "Detect (s)", "Encode (s)", "Match (s)", "Other busy (s)", "Wait (s)", "Comm (s)"];
    let mut columns = vec![("Rank", 6.0), ("Units", 7.0), ("Frames", 8.0), ("Decoded frames", 9.0), ("Faces", 7.0)];
    columns.extend(STACKED.iter().map(|s| (*s, 9.0)));
    columns.extend([("Busy (s)", 9.0), ("Total (s)", 9.0), ("Busy %", 8.0), ("Setup (s)", 9.0)]);
    columns.extend([("Encodings", 9.0), ("Encodings saved", 9.0)]);
    header(ws, f, "Ranks", &columns)?;
    for (i, t) in timings.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, format!("rank {}", t.rank))?;
        for (col, v) in [t.units, t.frames, t.decoded_frames, t.faces].into_iter().enumerate() {
            ws.write_number(row, 1 + col as u16, v as f64)?;
        }
        let per_thread = |v: f64| v / threads as f64;
        let stages = [t.decode_s, t.detect_s, t.encode_s, t.match_s].map(per_thread);
        let other = (t.busy_s - stages.iter().sum::<f64>()).max(0.0);
        let [decode, detect, encode, matching] = stages;
        let seconds = [decode, detect, encode, matching, other, t.wait_s, t.comm_s, t.busy_s, t.total_s];
        for (col, v) in seconds.into_iter().enumerate() {
            ws.write_number_with_format(row, 5 + col as u16, v, &f.seconds)?;
        }
        let busy_share = if t.total_s > 0.0 { t.busy_s / t.total_s } else { 0.0 };
        ws.write_number_with_format(row, 14, busy_share, &f.percent)?;
        ws.write_number_with_format(row, 15, t.setup_s, &f.seconds)?;
        ws.write_number(row, 16, t.encodings as f64)?;
        ws.write_number(row, 17, t.encodings_saved as f64)?;
    }

    let last = timings.len().max(1) as u32;
    let mut chart = Chart::new(ChartType::BarStacked);
    chart.title().set_name("Where each rank's time went");
    chart.x_axis().set_name("seconds");
    for (k, _) in STACKED.iter().enumerate() {
        let col = 5 + k as u16;
        chart
            .add_series()
            .set_name(("Ranks", 0, col))
            .set_categories(("Ranks", 1, 0, last, 0))
            .set_values(("Ranks", 1, col, last, col));
    }
    chart.set_width(720).set_height(120 + 40 * last);
    ws.insert_chart(last + 2, 0, &chart)?;
    Ok(())
}

/// The timeline sheet, and a Gantt chart drawn as stacked bars: an invisible bar up to each
/// unit's start, then its duration in its rank's colour.
fn units_sheet(ws: &mut Worksheet, f: &Formats, units: &[UnitRecord], ranks: usize) -> Result<()> {
    let ranks = ranks.max(1);
    let mut columns = vec![("Unit", 7.0), ("Rank", 6.0), ("Start (s)", 9.0), ("End (s)", 9.0), ("Frames", 7.0)];
    let rank_headers: Vec<String> = (0..ranks).map(|r| format!("rank {r} (s)")).collect();
    columns.extend(rank_headers.iter().map(|h| (h.as_str(), 9.0)));
    header(ws, f, "Units", &columns)?;
    for (i, u) in units.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, format!("unit {}", u.unit))?;
        ws.write_number(row, 1, f64::from(u.rank))?;
        ws.write_number_with_format(row, 2, u.start_s, &f.seconds)?;
        ws.write_number_with_format(row, 3, u.end_s, &f.seconds)?;
        ws.write_number(row, 4, u.frames as f64)?;
        // Duration under its rank's column only: one coloured series per rank in the chart.
        ws.write_number_with_format(row, 5 + u.rank as u16, u.end_s - u.start_s, &f.seconds)?;
    }
    if units.is_empty() {
        return Ok(());
    }
    let last = units.len().min(MAX_GANTT_UNITS) as u32;
    let mut chart = Chart::new(ChartType::BarStacked);
    let title = if units.len() > MAX_GANTT_UNITS {
        format!("Timeline (first {MAX_GANTT_UNITS} units)")
    } else {
        "Timeline: which rank ran each unit, when".to_string()
    };
    chart.title().set_name(&title);
    chart
        .add_series()
        .set_name("start")
        .set_categories(("Units", 1, 0, last, 0))
        .set_values(("Units", 1, 2, last, 2))
        .set_format(ChartFormat::new().set_no_fill());
    for r in 0..ranks {
        let col = 5 + r as u16;
        chart
            .add_series()
            .set_name(("Units", 0, col))
            .set_categories(("Units", 1, 0, last, 0))
            .set_values(("Units", 1, col, last, col))
            .set_format(
                ChartFormat::new()
                    .set_solid_fill(ChartSolidFill::new().set_color(RANK_COLOURS[r % RANK_COLOURS.len()])),
            )
            .set_gap(20);
    }
    chart.x_axis().set_name("seconds since the common start");
    chart.y_axis().set_reverse();
    chart.set_width(720).set_height((200 + 14 * last).min(1600));
    ws.insert_chart(1, 6 + ranks as u16, &chart)?;
    Ok(())
}

/// The Settings sheet's rows for an attendance run: settings, video, software, provenance.
fn settings_rows(result: &RunResult) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> =
        result.settings.describe().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let v = &result.video;
    rows.extend(
        [
            ("ranks", result.ranks.to_string()),
            ("video frames", v.frame_count.to_string()),
            ("video fps", v.fps.to_string()),
            ("video size (px)", format!("{}x{}", v.width, v.height)),
            ("video bytes", v.file_size.to_string()),
            ("stride (frames)", result.stride.to_string()),
            ("sampled frames", result.sampled_frames.to_string()),
            ("undecodable frames", result.failed_frames.len().to_string()),
            ("wall time (s)", format!("{:.3}", result.wall_time_s)),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    rows.extend(result.software.iter().chain(&result.job).map(|(k, v)| (k.clone(), v.clone())));
    rows.extend(result.hosts.iter().map(|h| (format!("rank {} ran on", h.rank), crate::about::describe_host(h))));
    rows
}

fn settings_sheet(ws: &mut Worksheet, f: &Formats, rows: &[(impl AsRef<str>, String)]) -> Result<()> {
    header(ws, f, "Settings", &[("Setting", 18.0), ("Value", 60.0)])?;
    for (i, (k, v)) in rows.iter().enumerate() {
        ws.write_string(i as u32 + 1, 0, k.as_ref())?;
        ws.write_string(i as u32 + 1, 1, v)?;
    }
    Ok(())
}
