//! `semester.csv` and `semester.xlsx`: one row per student, one column per lecture.

use anyhow::Result;
use rust_xlsxwriter::{Format, Workbook};

use crate::analysis::semester::SemesterTable;

/// What a cell says for a student not on that lecture's roster.
pub const NOT_ENROLLED: &str = "not enrolled";

/// The table as `semester.csv`.
pub fn render_csv(table: &SemesterTable) -> Result<Vec<u8>> {
    crate::report::csv::render(|w| {
        let mut header = vec!["student_id".to_string(), "name".to_string()];
        header.extend(table.headings.iter().map(|h| crate::report::csv::text_cell(h)));
        header.extend(["lectures_enrolled", "lectures_present", "mean_presence", "below_threshold"].map(String::from));
        w.write_record(&header)?;
        for r in &table.rows {
            let mut record = vec![crate::report::csv::text_cell(&r.student_id), crate::report::csv::text_cell(&r.name)];
            record.extend(r.presence.iter().map(|p| p.map_or(NOT_ENROLLED.to_string(), |p| format!("{p:.4}"))));
            record.push(r.lectures_enrolled.to_string());
            record.push(r.lectures_present.to_string());
            record.push(format!("{:.4}", r.mean_presence));
            record.push(if r.below_threshold { "yes" } else { "no" }.to_string());
            w.write_record(&record)?;
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

    let n = table.headings.len() as u16;
    let mut headings = vec!["Student ID".to_string(), "Name".to_string()];
    headings.extend(table.headings.iter().cloned());
    headings.extend(["Enrolled", "Present", "Mean presence"].map(String::from));
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
        for (k, p) in r.presence.iter().enumerate() {
            match p {
                Some(p) => ws.write_number_with_format(row, 2 + k as u16, *p, &percent)?,
                None => ws.write_string_with_format(row, 2 + k as u16, NOT_ENROLLED, &missing)?,
            };
        }
        ws.write_number(row, n + 2, r.lectures_enrolled as f64)?;
        ws.write_number(row, n + 3, r.lectures_present as f64)?;
        ws.write_number_with_format(row, n + 4, r.mean_presence, if r.below_threshold { &flagged } else { &percent })?;
    }
    let note_row = table.rows.len() as u32 + 2;
    ws.write_string(
        note_row,
        0,
        format!(
            "Highlighted: mean presence below {:.0}% over the lectures the student was enrolled in.",
            table.threshold * 100.0
        ),
    )?;
    Ok(wb.save_to_buffer()?)
}
