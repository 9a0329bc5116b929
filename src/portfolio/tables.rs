//! Downloads of the reporting tables: CSV (the one CSV writer, formulas defused), XLSX
//! (rust_xlsxwriter; amounts as numbers with the currency's decimals) and the fund statement as
//! PDF (lopdf, the standard Helvetica font, text that a reader can extract).

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use rust_xlsxwriter::{Format, Workbook};

use super::aggregate::Portfolio;
use super::membership::MembershipTable;
use super::statement::{self, FundStatement};
use crate::error::ApiError;

/// A table as a header row and text rows, with the indexes of its amount columns.
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Cells.
    pub rows: Vec<Vec<String>>,
    /// Columns holding amounts or counts (written as numbers in XLSX).
    pub numeric: Vec<usize>,
}

/// The portfolio as a table: one column per dimension (its label), then the sums, then the
/// total row.
pub fn portfolio(p: &Portfolio) -> Table {
    let dims = p.group_by.len();
    let mut header: Vec<String> = p.group_by.iter().map(|d| d.as_str().to_string()).collect();
    header.extend(
        ["grants", "committed", "paid", "outstanding"]
            .iter()
            .map(|s| s.to_string()),
    );
    let sums = |s: &super::aggregate::Sums| {
        vec![
            s.grants.to_string(),
            s.committed.clone(),
            s.paid.clone(),
            s.outstanding.clone(),
        ]
    };
    let mut rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .map(|r| {
            let mut row = r.labels.clone();
            row.extend(sums(&r.sums));
            row
        })
        .collect();
    let mut total = vec![String::new(); dims];
    if let Some(first) = total.first_mut() {
        *first = "total".into();
    }
    total.extend(sums(&p.total));
    rows.push(total);
    Table {
        header,
        rows,
        numeric: (dims..dims + 4).collect(),
    }
}

/// The membership table as a table.
pub fn membership(m: &MembershipTable) -> Table {
    let header = [
        "year",
        m.group_by.as_str(),
        "joined",
        "lapsed",
        "withdrawn",
        "active_at_year_end",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows = m
        .rows
        .iter()
        .map(|r| {
            vec![
                r.year.to_string(),
                r.key.clone(),
                r.joined.to_string(),
                r.lapsed.to_string(),
                r.withdrawn.to_string(),
                r.active_at_year_end.to_string(),
            ]
        })
        .collect();
    Table {
        header,
        rows,
        numeric: vec![0, 2, 3, 4, 5],
    }
}

/// The table as CSV text.
pub fn csv(t: &Table) -> Result<String, ApiError> {
    crate::csv_text::write(
        crate::csv_text::LineEnd::Lf,
        std::iter::once(&t.header).chain(t.rows.iter()),
    )
}

/// The table as an XLSX workbook of one sheet named `sheet`.
pub fn xlsx(t: &Table, sheet: &str) -> Result<Vec<u8>, ApiError> {
    let fail = |_| ApiError::internal("xlsx");
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(fail)?;
    for (c, h) in t.header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(fail)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let number = cell.parse::<f64>().ok().filter(|_| t.numeric.contains(&c));
            match number {
                Some(n) => ws.write_number(r, c as u16, n).map_err(fail)?,
                None => ws.write_string(r, c as u16, cell).map_err(fail)?,
            };
        }
    }
    ws.autofit();
    book.save_to_buffer().map_err(fail)
}

/// Text in the PDF's WinAnsi encoding: Latin-1 letters kept, anything else as `?`.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// The lines of the statement's text, top to bottom.
fn statement_lines(s: &FundStatement) -> Vec<(f32, String)> {
    let mut out = vec![
        (16.0, format!("Fund statement: {} {}", s.reference, s.title)),
        (11.0, format!("Donor: {}", s.donor_name)),
        (
            11.0,
            format!("Period: {} to {}  Currency: {}", s.from, s.to, s.currency),
        ),
        (11.0, String::new()),
    ];
    for (k, v) in statement::summary(s) {
        out.push((
            11.0,
            format!("{}: {} {}", k.replace('_', " "), s.currency, v),
        ));
    }
    out.push((11.0, String::new()));
    out.push((12.0, "Grants (awarded / paid / reversed)".into()));
    for l in &s.lines {
        out.push((
            10.0,
            format!(
                "{}  {}  {}: {} / {} / {}",
                l.reference, l.grantee_name, l.status, l.awarded, l.paid, l.reversed
            ),
        ));
    }
    out
}

/// The statement as a PDF (A4 pages of 50 lines).
pub fn statement_pdf(s: &FundStatement) -> Result<Vec<u8>, ApiError> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids: Vec<Object> = Vec::new();
    for chunk in statement_lines(s).chunks(50) {
        let mut ops = vec![Operation::new("BT", vec![])];
        let mut y = 800;
        for (size, text) in chunk {
            ops.push(Operation::new("Tf", vec!["F1".into(), (*size).into()]));
            ops.push(Operation::new(
                "Tm",
                vec![1.into(), 0.into(), 0.into(), 1.into(), 50.into(), y.into()],
            ));
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(latin1(text))],
            ));
            y -= 15;
        }
        ops.push(Operation::new("ET", vec![]));
        let bytes = Content { operations: ops }
            .encode()
            .map_err(|_| ApiError::internal("pdf content"))?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, bytes));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|_| ApiError::internal("pdf"))?;
    Ok(out)
}
