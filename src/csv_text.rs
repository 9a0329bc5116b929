//! The one CSV writer: the `csv` crate's quoting (quotes only where a cell needs them) and
//! the one spreadsheet rule, formulas defused: a cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return gets a leading apostrophe, so no export runs as a formula.

use crate::error::ApiError;

/// How each line ends.
#[derive(Debug, Clone, Copy)]
pub enum LineEnd {
    /// `\n`.
    Lf,
    /// `\r\n` (RFC 4180).
    Crlf,
}

/// A cell as written: a cell a spreadsheet would read as a formula gets a leading apostrophe.
pub fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Writes rows of cells as CSV text, each cell defused, each line ended by `end`.
pub fn write<I, R, S>(end: LineEnd, rows: I) -> Result<String, ApiError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let terminator = match end {
        LineEnd::Lf => ::csv::Terminator::Any(b'\n'),
        LineEnd::Crlf => ::csv::Terminator::CRLF,
    };
    let mut w = ::csv::WriterBuilder::new()
        .terminator(terminator)
        .quote_style(::csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(row.into_iter().map(|c| defuse(c.as_ref())))
            .map_err(ApiError::internal)?;
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_defused_and_nothing_else() {
        for start in ["=SUM(A1)", "+1", "-5", "@x", "\tx", "\rx"] {
            assert_eq!(defuse(start), format!("'{start}"));
        }
        assert_eq!(defuse("plain"), "plain");
        assert_eq!(defuse("a=b"), "a=b");
    }

    #[test]
    fn lines_end_as_asked() {
        assert_eq!(write(LineEnd::Lf, [["a", "b"]]).unwrap(), "a,b\n");
        assert_eq!(write(LineEnd::Crlf, [["a", "b"]]).unwrap(), "a,b\r\n");
    }
}
