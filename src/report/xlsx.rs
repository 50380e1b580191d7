//! `attendance.xlsx`: the workbook attendance officers open. One sheet per table, with
//! bold frozen headers and number formats, so it reads as finished without any fiddling.

use std::path::Path;

use anyhow::Result;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::output::{write_atomically, Access};
use crate::result::RunResult;

const SECONDS_PER_DAY: f64 = 86_400.0;

fn header(ws: &mut Worksheet, name: &str, columns: &[(&str, f64)]) -> Result<()> {
    ws.set_name(name)?;
    let bold = Format::new().set_bold().set_background_color("#DDEBF7");
    for (col, (title, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *title, &bold)?;
        ws.set_column_width(col as u16, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes the workbook to `path` (owner-only: it names students).
pub fn write(result: &RunResult, path: &Path) -> Result<()> {
    let mut wb = Workbook::new();
    let percent = Format::new().set_num_format("0.0%");
    let clock = Format::new().set_num_format("mm:ss");
    let seconds = Format::new().set_num_format("0.000");

    let ws = wb.add_worksheet();
    header(
        ws,
        "Attendance",
        &[("Student ID", 14.0), ("Name", 24.0), ("Sampled frames", 15.0), ("Frames seen", 13.0),
          ("Presence", 11.0), ("First seen", 11.0), ("Last seen", 11.0), ("Status", 10.0)],
    )?;
    let present = Format::new().set_font_color("#006100").set_background_color("#C6EFCE");
    let absent = Format::new().set_font_color("#9C0006").set_background_color("#FFC7CE");
    for (i, a) in result.attendance.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &a.student_id)?;
        ws.write_string(row, 1, &a.name)?;
        ws.write_number(row, 2, a.sampled_frames as f64)?;
        ws.write_number(row, 3, a.frames_seen as f64)?;
        ws.write_number_with_format(row, 4, a.presence, &percent)?;
        if let Some(t) = a.first_seen_s {
            ws.write_number_with_format(row, 5, t / SECONDS_PER_DAY, &clock)?;
        }
        if let Some(t) = a.last_seen_s {
            ws.write_number_with_format(row, 6, t / SECONDS_PER_DAY, &clock)?;
        }
        ws.write_string_with_format(row, 7, a.status(), if a.present { &present } else { &absent })?;
    }

    let ws = wb.add_worksheet();
    header(
        ws,
        "Ranks",
        &[("Rank", 7.0), ("Units", 8.0), ("Frames", 9.0), ("Decoded frames", 15.0), ("Faces", 8.0),
          ("Setup (s)", 10.0), ("Decode (s)", 11.0), ("Detect (s)", 11.0), ("Encode (s)", 11.0),
          ("Match (s)", 10.0), ("Busy (s)", 10.0), ("Wait (s)", 10.0), ("Comm (s)", 10.0), ("Total (s)", 10.0)],
    )?;
    for (i, t) in result.timings.iter().enumerate() {
        let row = i as u32 + 1;
        let counts = [t.rank as f64, t.units as f64, t.frames as f64, t.decoded_frames as f64, t.faces as f64];
        for (col, v) in counts.into_iter().enumerate() {
            ws.write_number(row, col as u16, v)?;
        }
        let times = [t.setup_s, t.decode_s, t.detect_s, t.encode_s, t.match_s, t.busy_s, t.wait_s, t.comm_s, t.total_s];
        for (col, v) in times.into_iter().enumerate() {
            ws.write_number_with_format(row, (col + counts.len()) as u16, v, &seconds)?;
        }
    }

    let ws = wb.add_worksheet();
    header(ws, "Units", &[("Unit", 7.0), ("Rank", 7.0), ("Start (s)", 10.0), ("End (s)", 10.0), ("Frames", 8.0)])?;
    for (i, u) in result.units.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, u.unit as f64)?;
        ws.write_number(row, 1, f64::from(u.rank))?;
        ws.write_number_with_format(row, 2, u.start_s, &seconds)?;
        ws.write_number_with_format(row, 3, u.end_s, &seconds)?;
        ws.write_number(row, 4, u.frames as f64)?;
    }

    let ws = wb.add_worksheet();
    header(ws, "Settings", &[("Setting", 16.0), ("Value", 60.0)])?;
    let mut rows = result.settings.describe();
    rows.push(("ranks", result.ranks.to_string()));
    rows.push(("stride (frames)", result.stride.to_string()));
    rows.push(("sampled frames", result.sampled_frames.to_string()));
    rows.push(("wall time (s)", format!("{:.3}", result.wall_time_s)));
    rows.push(("rollcall version", env!("CARGO_PKG_VERSION").to_string()));
    for (i, (k, v)) in rows.iter().enumerate() {
        ws.write_string(i as u32 + 1, 0, *k)?;
        ws.write_string(i as u32 + 1, 1, v)?;
    }

    write_atomically(path, Access::OwnerOnly, |tmp| Ok(wb.save(tmp)?))
}
