//! Checks shared by the grant aggregates: text fields, collected field errors, and the
//! refusal a transition function returns when a command does not apply.

use crate::error::{ApiError, ConflictCode, FieldError, no_field_errors};

/// Why a transition function refused a command: the 409 it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The rule.
    pub code: ConflictCode,
    /// What happened, for people.
    pub detail: String,
}

impl Refusal {
    /// A refusal naming `code`.
    pub fn new(code: ConflictCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// The status does not allow the command.
    pub fn invalid(what: &str, status: &str, verb: &str, from: &[&str]) -> Self {
        Self::new(
            ConflictCode::InvalidTransition,
            format!(
                "The {what} is {status}; {verb} needs it to be {}.",
                from.join(" or ")
            ),
        )
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Conflict {
            code: r.code,
            detail: r.detail,
        }
    }
}

/// Checks the length of a text field (counted as sent, as the documented schema counts it)
/// and returns it trimmed.
pub fn text_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> String {
    let v = value.trim();
    let n = value.chars().count();
    if n < min || n > max || (min > 0 && v.is_empty()) {
        errors.push(FieldError::new(
            field,
            "invalid_length",
            format!("Use {min} to {max} characters."),
        ));
    }
    v.to_string()
}

/// One checked reason (1–2000 characters).
pub fn reason(raw: &str) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let r = text_field(&mut errors, "reason", raw, 1, 2000);
    no_field_errors(errors)?;
    Ok(r)
}

/// Moves the field errors of a failed parse into `errors` (other errors are dropped: the
/// value is then missing and the caller's `no_field_errors` reports the fields).
pub fn collect<T>(r: Result<T, ApiError>, errors: &mut Vec<FieldError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            None
        }
        Err(_) => None,
    }
}
