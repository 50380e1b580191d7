//! A study of runs against the number of ranks (measured by `rollcall scaling`, predicted by
//! `rollcall simulate`) as a CSV table and a workbook with one chart per chosen column.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};

use crate::util::output::{write_atomically, Access};

/// One cell of a study table; the variant says how it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// Three decimals (seconds, ratios).
    Number(f64),
    /// A share: a fraction in the CSV, a percentage in the workbook.
    Share(f64),
}

/// Rows sorted by series (the schedule), then ranks; `ranks_column` holds the x of the charts.
pub struct Study {
    pub sheet: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// Column naming each row's series.
    pub series_column: usize,
    pub ranks_column: usize,
    /// (column, chart title): one chart each, a line per series against ranks.
    pub charts: Vec<(usize, &'static str)>,
}

impl Study {
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        write_atomically(path, Access::Shared, |tmp| {
            let mut w = ::csv::Writer::from_path(tmp)?;
            w.write_record(&self.header)?;
            for row in &self.rows {
                w.write_record(row.iter().map(|c| match c {
                    Cell::Text(t) => t.clone(),
                    Cell::Count(n) => n.to_string(),
                    Cell::Number(x) | Cell::Share(x) => format!("{x:.3}"),
                }))?;
            }
            w.flush()?;
            Ok(())
        })
    }

    pub fn write_xlsx(&self, path: &Path) -> Result<()> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(self.sheet)?;
        let head = Format::new().set_bold().set_background_color("#DDEBF7");
        let three = Format::new().set_num_format("0.000");
        let percent = Format::new().set_num_format("0.0%");
        for (col, title) in self.header.iter().enumerate() {
            ws.write_string_with_format(0, col as u16, *title, &head)?;
            ws.set_column_width(col as u16, 14)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let mut series: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for (i, cells) in self.rows.iter().enumerate() {
            let row = i as u32 + 1;
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(t) => ws.write_string(row, col, t)?,
                    Cell::Count(n) => ws.write_number(row, col, *n as f64)?,
                    Cell::Number(x) => ws.write_number_with_format(row, col, *x, &three)?,
                    Cell::Share(x) => ws.write_number_with_format(row, col, *x, &percent)?,
                };
            }
            if let Some(Cell::Text(name)) = cells.get(self.series_column) {
                series.entry(name.clone()).and_modify(|b| b.1 = row).or_insert((row, row));
            }
        }
        let x = self.ranks_column as u16;
        for (k, &(column, title)) in self.charts.iter().enumerate() {
            let mut chart = Chart::new(ChartType::ScatterStraightWithMarkers);
            chart.title().set_name(title);
            chart.x_axis().set_name(self.header[self.ranks_column]);
            chart.y_axis().set_name(self.header[column]);
            for (name, &(first, last)) in &series {
                chart
                    .add_series()
                    .set_name(name.as_str())
                    .set_categories((self.sheet, first, x, last, x))
                    .set_values((self.sheet, first, column as u16, last, column as u16));
            }
            ws.insert_chart(self.rows.len() as u32 + 3 + 18 * k as u32, 0, &chart)?;
        }
        super::xlsx::save(wb, path, Access::Shared)
    }
}
