//! `scaling.csv` and `scaling.xlsx`: the speedup study as a table and a chart.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};

use crate::output::{write_atomically, Access};
use crate::scaling::ScalingRow;

const HEADER: [&str; 8] =
    ["schedule", "ranks", "frames", "wall_time_s", "frames_per_s", "speedup", "efficiency", "busy_share"];

pub fn write_csv(rows: &[ScalingRow], path: &Path) -> Result<()> {
    write_atomically(path, Access::Shared, |tmp| {
        let mut w = ::csv::Writer::from_path(tmp)?;
        w.write_record(HEADER)?;
        for r in rows {
            w.write_record([
                r.schedule.clone(),
                r.ranks.to_string(),
                r.frames.to_string(),
                format!("{:.3}", r.wall_time_s),
                format!("{:.3}", r.frames_per_s),
                format!("{:.3}", r.speedup),
                format!("{:.3}", r.efficiency),
                format!("{:.3}", r.busy_share),
            ])?;
        }
        w.flush()?;
        Ok(())
    })
}

/// A table sheet and, per schedule, speedup and efficiency against ranks.
pub fn write_xlsx(rows: &[ScalingRow], path: &Path) -> Result<()> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Scaling")?;
    let head = Format::new().set_bold().set_background_color("#DDEBF7");
    let three = Format::new().set_num_format("0.000");
    let percent = Format::new().set_num_format("0%");
    for (col, title) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *title, &head)?;
        ws.set_column_width(col as u16, 13)?;
    }
    ws.set_freeze_panes(1, 0)?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.schedule)?;
        ws.write_number(row, 1, r.ranks as f64)?;
        ws.write_number(row, 2, r.frames as f64)?;
        ws.write_number_with_format(row, 3, r.wall_time_s, &three)?;
        ws.write_number_with_format(row, 4, r.frames_per_s, &three)?;
        ws.write_number_with_format(row, 5, r.speedup, &three)?;
        ws.write_number_with_format(row, 6, r.efficiency, &percent)?;
        ws.write_number_with_format(row, 7, r.busy_share, &percent)?;
    }
    // Rows are sorted by schedule, so each schedule is one contiguous block.
    let mut blocks: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        blocks.entry(&r.schedule).and_modify(|b| b.1 = row).or_insert((row, row));
    }
    for (k, (column, title, axis)) in
        [(5u16, "Speedup", "speedup"), (6, "Parallel efficiency", "efficiency")].into_iter().enumerate()
    {
        let mut chart = Chart::new(ChartType::ScatterStraightWithMarkers);
        chart.title().set_name(title);
        chart.x_axis().set_name("ranks");
        chart.y_axis().set_name(axis);
        for (schedule, (first, last)) in &blocks {
            chart
                .add_series()
                .set_name(*schedule)
                .set_categories(("Scaling", *first, 1, *last, 1))
                .set_values(("Scaling", *first, column, *last, column));
        }
        ws.insert_chart(rows.len() as u32 + 3 + 18 * k as u32, 0, &chart)?;
    }
    write_atomically(path, Access::Shared, |tmp| Ok(wb.save(tmp)?))
}
