//! `attendance.csv` and `detections.csv`: the column sets are a public contract (see
//! docs/FORMAT.md); numbers are written with fixed decimals so files diff cleanly.

use anyhow::Result;

use crate::attendance::result::RunResult;

pub const ATTENDANCE_HEADER: [&str; 10] = [
    "student_id",
    "name",
    "sampled_frames",
    "frames_seen",
    "windows",
    "windows_seen",
    "presence",
    "first_seen_s",
    "last_seen_s",
    "status",
];
pub const DETECTIONS_HEADER: [&str; 10] =
    ["frame", "time_s", "rank", "x", "y", "w", "h", "student_id", "distance", "track"];

/// Text from people (names, ids, titles) as a CSV cell that a spreadsheet shows as text: a
/// leading `=`, `+`, `-`, `@`, tab or carriage return would make Excel or LibreOffice run it
/// as a formula, so such a cell gets a leading `'` (OWASP's advice on CSV injection).
pub fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// Seconds as written in every report: milliseconds are finer than any frame rate needs.
pub fn seconds(t: f64) -> String {
    format!("{t:.3}")
}

fn optional_seconds(t: Option<f64>) -> String {
    t.map(seconds).unwrap_or_default()
}

pub fn render_attendance(result: &RunResult) -> Result<Vec<u8>> {
    render(|w| {
        w.write_record(ATTENDANCE_HEADER)?;
        for a in &result.attendance {
            w.write_record([
                text_cell(&a.student_id),
                text_cell(&a.name),
                a.sampled_frames.to_string(),
                a.frames_seen.to_string(),
                a.windows.to_string(),
                a.windows_seen.to_string(),
                format!("{:.4}", a.presence),
                optional_seconds(a.first_seen_s),
                optional_seconds(a.last_seen_s),
                a.status().to_string(),
            ])?;
        }
        Ok(())
    })
}

pub fn render_detections(result: &RunResult) -> Result<Vec<u8>> {
    render(|w| {
        w.write_record(DETECTIONS_HEADER)?;
        for d in &result.detections {
            let student = d.student.map(|s| text_cell(&result.roster.ids[s as usize])).unwrap_or_default();
            w.write_record([
                d.frame.to_string(),
                seconds(d.time_s),
                d.rank.to_string(),
                d.bbox.x.to_string(),
                d.bbox.y.to_string(),
                d.bbox.w.to_string(),
                d.bbox.h.to_string(),
                student,
                format!("{:.4}", d.distance),
                d.track.map(|t| t.to_string()).unwrap_or_default(),
            ])?;
        }
        Ok(())
    })
}

/// The bytes of a CSV table that `fill` writes.
pub fn render(fill: impl FnOnce(&mut ::csv::Writer<Vec<u8>>) -> Result<()>) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    fill(&mut w)?;
    w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
}

#[cfg(test)]
mod tests {
    use super::text_cell;

    #[test]
    fn formula_like_text_is_kept_as_text() {
        assert_eq!(text_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("Ana Absent"), "Ana Absent");
        assert_eq!(text_cell("O'Neil"), "O'Neil");
    }
}
