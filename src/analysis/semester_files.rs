//! `semester.csv` and `semester.xlsx`: one row per student, one column per lecture; and
//! `attendance-long.csv`: one row per student and lecture, the shape gradebook and attendance
//! imports of learning platforms read.

use anyhow::Result;
use rust_xlsxwriter::{Format, Note, Workbook};

use crate::analysis::semester::{Cell, SemesterTable};
use crate::report::csv::text_cell;

/// The long table's file name beside the workbook `semester.xlsx` (the manifest's default);
/// beside `S.xlsx`, `S-attendance-long.csv`, so that two semesters can share a folder.
pub const LONG_CSV: &str = "attendance-long.csv";

/// The long table's file name beside a workbook whose name without `.xlsx` is `stem`.
pub fn long_csv_name(stem: &str) -> String {
    match stem {
        "semester" => LONG_CSV.to_owned(),
        other => format!("{other}-{LONG_CSV}"),
    }
}

/// A cell as semester.csv shows it: rollcall's presence, or the status a teacher set.
fn cell_text(cell: &Option<Cell>) -> String {
    match cell {
        None => NOT_ENROLLED.to_string(),
        Some(Cell { overridden: Some(_), status, .. }) => status.as_str().to_string(),
        Some(c) => format!("{:.4}", c.presence),
    }
}

/// What a cell says for a student not on that lecture's roster.
pub const NOT_ENROLLED: &str = "not enrolled";

/// The table as `semester.csv`.
pub fn render_csv(table: &SemesterTable) -> Result<Vec<u8>> {
    crate::report::csv::render(|w| {
        let mut header = vec!["student_id".to_string(), "name".to_string()];
        header.extend(table.lectures.iter().map(|l| text_cell(&l.heading)));
        header.extend(
            ["lectures_enrolled", "lectures_present", "mean_presence", "below_threshold", "lectures_excused"]
                .map(String::from),
        );
        w.write_record(&header)?;
        for r in &table.rows {
            let mut record = vec![text_cell(&r.student_id), text_cell(&r.name)];
            record.extend(r.cells.iter().map(cell_text));
            record.push(r.lectures_enrolled.to_string());
            record.push(r.lectures_present.to_string());
            record.push(format!("{:.4}", r.mean_presence));
            record.push(if r.below_threshold { "yes" } else { "no" }.to_string());
            record.push(r.lectures_excused.to_string());
            w.write_record(&record)?;
        }
        Ok(())
    })
}

/// The table as `attendance-long.csv`: a row per student per lecture they were enrolled in,
/// `student_id,name,lecture,date,title,presence,status,source,reason,by`; `source` is
/// `rollcall` or `override`, `presence` always rollcall's measure.
pub fn render_long_csv(table: &SemesterTable) -> Result<Vec<u8>> {
    crate::report::csv::render(|w| {
        w.write_record([
            "student_id",
            "name",
            "lecture",
            "date",
            "title",
            "presence",
            "status",
            "source",
            "reason",
            "by",
        ])?;
        for r in &table.rows {
            for (lecture, cell) in table.lectures.iter().zip(&r.cells) {
                let Some(cell) = cell else { continue };
                let (source, reason, by) = match &cell.overridden {
                    Some(o) => ("override", o.reason.as_str(), o.by.as_str()),
                    None => ("rollcall", "", ""),
                };
                w.write_record([
                    text_cell(&r.student_id),
                    text_cell(&r.name),
                    text_cell(&lecture.name),
                    text_cell(lecture.date.as_deref().unwrap_or_default()),
                    text_cell(lecture.title.as_deref().unwrap_or_default()),
                    format!("{:.4}", cell.presence),
                    cell.status.as_str().to_owned(),
                    source.to_owned(),
                    text_cell(reason),
                    text_cell(by),
                ])?;
            }
        }
        Ok(())
    })
}

/// The table as `semester.xlsx`, flagged rows highlighted.
pub fn render_xlsx(table: &SemesterTable) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Semester")?;
    let head = Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap();
    let percent = Format::new().set_num_format("0%");
    let flagged =
        Format::new().set_num_format("0%").set_bold().set_font_color("#9C0006").set_background_color("#FFC7CE");
    let flagged_text = Format::new().set_bold().set_font_color("#9C0006").set_background_color("#FFC7CE");
    let missing = Format::new().set_italic().set_font_color("#808080");

    let overridden = Format::new().set_bold().set_background_color("#FFF2CC");
    let n = table.lectures.len() as u16;
    let mut headings = vec!["Student ID".to_string(), "Name".to_string()];
    headings.extend(table.lectures.iter().map(|l| l.heading.clone()));
    headings.extend(["Enrolled", "Present", "Mean presence", "Excused"].map(String::from));
    for (col, h) in headings.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, h, &head)?;
    }
    ws.set_row_height(0, 45)?;
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 24)?;
    for col in 2..2 + n {
        ws.set_column_width(col, 12)?;
    }
    ws.set_column_width(n + 4, 14)?;
    ws.set_freeze_panes(1, 2)?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);

    for (i, r) in table.rows.iter().enumerate() {
        let row = i as u32 + 1;
        let text = if r.below_threshold { &flagged_text } else { &Format::new() };
        ws.write_string_with_format(row, 0, &r.student_id, text)?;
        ws.write_string_with_format(row, 1, &r.name, text)?;
        for (k, cell) in r.cells.iter().enumerate() {
            let col = 2 + k as u16;
            match cell {
                None => ws.write_string_with_format(row, col, NOT_ENROLLED, &missing)?,
                Some(Cell { overridden: None, presence, .. }) => {
                    ws.write_number_with_format(row, col, *presence, &percent)?
                }
                Some(c @ Cell { overridden: Some(o), .. }) => {
                    ws.write_string_with_format(row, col, c.status.as_str(), &overridden)?;
                    let text = format!(
                        "{} (rollcall measured {:.0}%, {}): {}",
                        c.status.as_str(),
                        c.presence * 100.0,
                        c.measured.as_str(),
                        o.reason
                    );
                    ws.insert_note(row, col, &Note::new(text).set_author(&o.by))?
                }
            };
        }
        ws.write_number(row, n + 2, r.lectures_enrolled as f64)?;
        ws.write_number(row, n + 3, r.lectures_present as f64)?;
        ws.write_number_with_format(row, n + 4, r.mean_presence, if r.below_threshold { &flagged } else { &percent })?;
        ws.write_number(row, n + 5, r.lectures_excused as f64)?;
    }
    let note_row = table.rows.len() as u32 + 2;
    ws.write_string(
        note_row,
        0,
        format!(
            "Highlighted: mean presence below {:.0}% over the lectures the student was enrolled in and not \
             excused from. Yellow: a teacher's override (its note says what rollcall measured, and why).",
            table.threshold * 100.0
        ),
    )?;
    overrides_sheet(&mut wb, table, &head)?;
    Ok(wb.save_to_buffer()?)
}

/// The sheet `Overrides`: every override, with rollcall's own status and presence beside it.
fn overrides_sheet(wb: &mut Workbook, table: &SemesterTable, head: &Format) -> Result<()> {
    let ws = wb.add_worksheet();
    ws.set_name("Overrides")?;
    let columns =
        ["Student ID", "Name", "Lecture", "Status", "rollcall's status", "rollcall's presence", "Reason", "By"];
    for (col, h) in columns.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *h, head)?;
    }
    let percent = Format::new().set_num_format("0%");
    let mut row = 1;
    for r in &table.rows {
        for (lecture, cell) in table.lectures.iter().zip(&r.cells) {
            let Some(c @ Cell { overridden: Some(o), .. }) = cell else { continue };
            ws.write_string(row, 0, &r.student_id)?;
            ws.write_string(row, 1, &r.name)?;
            ws.write_string(row, 2, &lecture.heading)?;
            ws.write_string(row, 3, c.status.as_str())?;
            ws.write_string(row, 4, c.measured.as_str())?;
            ws.write_number_with_format(row, 5, c.presence, &percent)?;
            ws.write_string(row, 6, &o.reason)?;
            ws.write_string(row, 7, &o.by)?;
            row += 1;
        }
    }
    for (col, width) in [14, 24, 24, 10, 16, 18, 40, 16].into_iter().enumerate() {
        ws.set_column_width(col as u16, width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}
