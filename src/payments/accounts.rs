//! Payee bank accounts under change control: proposed by the organisation's members or by
//! finance, confirmed by a second person (finance, never the proposer), usable only after the
//! cooling-off period, never edited (only retired or replaced). The account number is sealed
//! with the at-rest key ring and shown in full to finance alone; everyone else sees its last
//! four characters. This module never hands a number to partner apps or exports.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role};
use crate::codes;
use crate::command::{self, Audited, Ctx, Message};
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::db::DbConn;
use crate::db::schema::{bank_accounts, organisations};
use crate::error::no_field_errors;
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::grants::check::{collect, text_field};
use crate::kit::rfc3339;
use crate::money;
use crate::notify::Kind;
use crate::notify::matrix::{Event, Parties};

crate::text_enum! {
    /// How the account is identified.
    pub enum Scheme {
        /// An IBAN (checksum validated) and a BIC.
        Iban = "iban",
        /// Where IBAN does not exist: an account number, bank name, SWIFT/BIC and bank country.
        Local = "local",
    }
}

crate::text_enum! {
    /// An account's place in its life.
    pub enum AccountStatus {
        /// Waits for a second person (finance) to confirm it.
        Proposed = "proposed",
        /// Confirmed; usable once its cooling-off period has passed.
        Confirmed = "confirmed",
        /// No longer used (retired, or replaced by a newer account).
        Retired = "retired",
    }
}

/// A stored account.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_accounts)]
pub struct AccountRow {
    /// UUID v7.
    pub id: String,
    /// The organisation paid to it.
    pub organisation_id: String,
    /// Account holder.
    pub holder_name: String,
    /// ISO 4217 code.
    pub currency: String,
    /// iban or local.
    pub scheme: Scheme,
    /// The IBAN or account number, sealed with the key ring (bound to this row).
    pub number_sealed: Vec<u8>,
    /// The last four characters, for masking.
    pub number_last4: String,
    /// SWIFT/BIC.
    pub bic: String,
    /// Bank name (local accounts).
    pub bank_name: Option<String>,
    /// Bank country (local accounts).
    pub bank_country: Option<String>,
    /// proposed, confirmed, retired.
    pub status: AccountStatus,
    /// The account it replaces once confirmed.
    pub replaces_id: Option<String>,
    /// Who proposed it.
    pub proposed_by: String,
    /// When.
    pub proposed_at: NaiveDateTime,
    /// Who confirmed it.
    pub confirmed_by: Option<String>,
    /// When.
    pub confirmed_at: Option<NaiveDateTime>,
    /// When the cooling-off period ends.
    pub usable_from: Option<NaiveDateTime>,
    /// Who retired it.
    pub retired_by: Option<String>,
    /// When.
    pub retired_at: Option<NaiveDateTime>,
}

/// The associated data that binds a sealed number to its row.
pub(super) fn aad(id: &str) -> Vec<u8> {
    format!("bank_accounts.number_sealed:{id}").into_bytes()
}

impl AccountRow {
    /// The account number in clear (finance and the bank file only).
    pub fn number(&self, keyring: &KeyRing) -> Result<String, ApiError> {
        let bytes = keyring
            .open(&self.number_sealed, &aad(&self.id))
            .map_err(ApiError::internal)?;
        String::from_utf8(bytes).map_err(ApiError::internal)
    }

    /// The number as everyone but finance sees it: its last four characters.
    pub fn masked(&self) -> String {
        format!("****{}", self.number_last4)
    }

    /// True when a tranche may be paid to it at `now`.
    pub fn usable_at(&self, now: NaiveDateTime) -> bool {
        self.status == AccountStatus::Confirmed && self.usable_from.is_some_and(|u| u <= now)
    }
}

/// Propose an account. Either `iban` (with `bic`), or `account_number`, `bank_name`, `bic`
/// and `bank_country` where IBAN does not exist.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Account holder's name as the bank knows it, 1–140 characters.
    #[schema(min_length = 1, max_length = 140)]
    pub holder_name: String,
    /// ISO 4217 code of the account.
    pub currency: String,
    /// IBAN (spaces allowed), checksum validated. Leave out for a local account.
    pub iban: Option<String>,
    /// Account number where IBAN does not exist (letters and digits, 1–34).
    pub account_number: Option<String>,
    /// Bank name (local accounts), 1–140 characters.
    pub bank_name: Option<String>,
    /// SWIFT/BIC of the bank: 8 or 11 characters.
    pub bic: String,
    /// Bank country, ISO 3166-1 alpha-2 (local accounts; an IBAN names its own).
    pub bank_country: Option<String>,
    /// The account this one replaces once confirmed (of the same organisation).
    pub replaces_id: Option<String>,
}

/// A payee bank account as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankAccount {
    /// UUID v7.
    pub id: String,
    /// The organisation paid to it.
    pub organisation_id: String,
    /// Account holder.
    pub holder_name: String,
    /// ISO 4217 code.
    pub currency: String,
    /// iban or local.
    pub scheme: Scheme,
    /// The IBAN or account number: in full for finance, else `****` and its last four.
    pub number: String,
    /// False when `number` is masked.
    pub number_in_full: bool,
    /// SWIFT/BIC.
    pub bic: String,
    /// Bank name (local accounts).
    pub bank_name: Option<String>,
    /// Bank country, ISO 3166-1 alpha-2.
    pub bank_country: Option<String>,
    /// proposed, confirmed or retired.
    pub status: AccountStatus,
    /// True when a tranche may be paid to it now (confirmed and past its cooling-off period).
    pub usable: bool,
    /// When its cooling-off period ends (set on confirmation).
    pub usable_from: Option<String>,
    /// The account it replaces.
    pub replaces_id: Option<String>,
    /// Who proposed it.
    pub proposed_by: String,
    /// Who confirmed it.
    pub confirmed_by: Option<String>,
}

impl Audited for BankAccount {
    const ENTITY: &'static str = "bank_account";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// Who may see an account, and how much of it.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// Finance: every account, numbers in full.
    Finance,
    /// Admins and grant officers: every account, masked.
    Staff,
    /// A member: its own organisation's accounts, masked.
    Member(String),
}

impl TryFrom<&Principal> for Viewer {
    type Error = ApiError;
    /// Partner apps never see accounts (404, as for something they may not know of).
    fn try_from(p: &Principal) -> Result<Self, ApiError> {
        match p {
            Principal::User(u) => Ok(match (u.role, &u.organisation_id) {
                (Role::FinanceOfficer, _) => Viewer::Finance,
                (Role::Admin | Role::GrantOfficer, _) => Viewer::Staff,
                (Role::Member, Some(org)) => Viewer::Member(org.clone()),
                (Role::Member, None) => return Err(ApiError::NotFound),
            }),
            Principal::Client(_) => Err(ApiError::NotFound),
        }
    }
}

impl Viewer {
    /// 404 unless the viewer may see `organisation_id`'s accounts (which must exist).
    fn require(&self, conn: &mut DbConn, organisation_id: &str) -> Result<(), ApiError> {
        if let Viewer::Member(own) = self
            && own != organisation_id
        {
            return Err(ApiError::NotFound);
        }
        let n: i64 = organisations::table
            .find(organisation_id)
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }

    /// The account as this viewer sees it.
    pub fn show(
        &self,
        r: &AccountRow,
        keyring: &KeyRing,
        now: NaiveDateTime,
    ) -> Result<BankAccount, ApiError> {
        let full = matches!(self, Viewer::Finance);
        Ok(BankAccount {
            id: r.id.clone(),
            organisation_id: r.organisation_id.clone(),
            holder_name: r.holder_name.clone(),
            currency: r.currency.clone(),
            scheme: r.scheme,
            number: if full { r.number(keyring)? } else { r.masked() },
            number_in_full: full,
            bic: r.bic.clone(),
            bank_name: r.bank_name.clone(),
            bank_country: r.bank_country.clone(),
            status: r.status,
            usable: r.usable_at(now),
            usable_from: r.usable_from.map(rfc3339),
            replaces_id: r.replaces_id.clone(),
            proposed_by: r.proposed_by.clone(),
            confirmed_by: r.confirmed_by.clone(),
        })
    }
}

/// Loads an account (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<AccountRow, ApiError> {
    find(conn, id)?.ok_or(ApiError::NotFound)
}

/// The account `id`, if there is one.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<AccountRow>, ApiError> {
    Ok(bank_accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// The accounts of an organisation the viewer may see, oldest first.
pub fn list(
    conn: &mut DbConn,
    viewer: &Viewer,
    organisation_id: &str,
) -> Result<Vec<AccountRow>, ApiError> {
    viewer.require(conn, organisation_id)?;
    Ok(bank_accounts::table
        .filter(bank_accounts::organisation_id.eq(organisation_id))
        .order(bank_accounts::id.asc())
        .select(AccountRow::as_select())
        .load(conn)?)
}

/// One account of an organisation the viewer may see.
pub fn get(
    conn: &mut DbConn,
    viewer: &Viewer,
    organisation_id: &str,
    id: &str,
) -> Result<AccountRow, ApiError> {
    viewer.require(conn, organisation_id)?;
    let row = by_id(conn, id)?;
    if row.organisation_id != organisation_id {
        return Err(ApiError::NotFound);
    }
    Ok(row)
}

/// The pattern of a BIC (ISO 9362), as pain.001.001.09's `BICFIIdentifier`.
pub fn is_bic(s: &str) -> bool {
    let b = s.as_bytes();
    let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (b.len() == 8 || b.len() == 11)
        && b.iter().all(upper_alnum)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
}

/// The checked parts of a proposal: the number in clear, its scheme and bank country.
struct Checked {
    holder_name: String,
    currency: String,
    scheme: Scheme,
    number: String,
    bic: String,
    bank_name: Option<String>,
    bank_country: Option<String>,
}

fn check_iban(
    errors: &mut Vec<FieldError>,
    raw: &str,
    req: &NewAccount,
) -> Option<(String, String)> {
    for (field, given) in [
        ("account_number", req.account_number.is_some()),
        ("bank_name", req.bank_name.is_some()),
    ] {
        if given {
            errors.push(FieldError::new(
                field,
                "not_with_iban",
                "An account with an IBAN takes no account number or bank name.",
            ));
        }
    }
    match raw.parse::<iban::Iban>() {
        Ok(i) => {
            use iban::IbanLike;
            Some((i.electronic_str().to_string(), i.country_code().to_string()))
        }
        Err(_) => {
            errors.push(FieldError::new(
                "iban",
                "invalid_iban",
                "This is not a valid IBAN (its format or check digits are wrong).",
            ));
            None
        }
    }
}

fn check_local(
    errors: &mut Vec<FieldError>,
    req: &NewAccount,
) -> (String, Option<String>, Option<String>) {
    let number = match req.account_number.as_deref().map(str::trim) {
        Some(n) if (1..=34).contains(&n.len()) && n.bytes().all(|c| c.is_ascii_alphanumeric()) => {
            n.to_ascii_uppercase()
        }
        Some(_) => {
            errors.push(FieldError::new(
                "account_number",
                "invalid",
                "An account number is 1–34 letters and digits.",
            ));
            String::new()
        }
        None => {
            errors.push(FieldError::new(
                "account_number",
                "required",
                "Give an IBAN, or an account number with its bank name and country.",
            ));
            String::new()
        }
    };
    let bank_name = match &req.bank_name {
        Some(b) => Some(text_field(errors, "bank_name", b, 1, 140)),
        None => {
            errors.push(FieldError::new(
                "bank_name",
                "required",
                "A local account names its bank.",
            ));
            None
        }
    };
    let country = match req.bank_country.as_deref() {
        Some(c) if codes::is_country(c) => Some(c.to_string()),
        _ => {
            errors.push(FieldError::new(
                "bank_country",
                "invalid_country",
                "The bank's country as an ISO 3166-1 alpha-2 code, e.g. KE.",
            ));
            None
        }
    };
    (number, bank_name, country)
}

fn checked(req: &NewAccount) -> Result<Checked, ApiError> {
    let mut errors = Vec::new();
    let holder_name = text_field(&mut errors, "holder_name", &req.holder_name, 1, 140);
    let currency = collect(
        money::currency("currency", &req.currency).map_err(ApiError::from),
        &mut errors,
    )
    .unwrap_or_default();
    let bic = req.bic.trim().to_ascii_uppercase();
    if !is_bic(&bic) {
        errors.push(FieldError::new(
            "bic",
            "invalid_bic",
            "A SWIFT/BIC is 8 or 11 letters and digits, e.g. DEUTDEFF.",
        ));
    }
    let (scheme, number, bank_name, bank_country) = match &req.iban {
        Some(raw) => {
            let (n, country) = check_iban(&mut errors, raw, req).unwrap_or_default();
            (Scheme::Iban, n, None, Some(country))
        }
        None => {
            let (n, b, c) = check_local(&mut errors, req);
            (Scheme::Local, n, b, c)
        }
    };
    no_field_errors(errors)?;
    Ok(Checked {
        holder_name,
        currency,
        scheme,
        number,
        bic,
        bank_name,
        bank_country,
    })
}

/// Who proposes: a member of the organisation in good standing, or finance.
fn proposer(conn: &mut DbConn, who: &Principal, organisation_id: &str) -> Result<(), ApiError> {
    let viewer = Viewer::try_from(who)?;
    viewer.require(conn, organisation_id)?;
    match viewer {
        Viewer::Finance => Ok(()),
        Viewer::Member(_) => {
            crate::auth::caller::OrgMember::try_from(who)?.require_in_good_standing(conn)
        }
        Viewer::Staff => Err(ApiError::Forbidden(
            "Accounts are proposed by the organisation's members or by finance.".into(),
        )),
    }
}

/// Proposes an account of `organisation_id`. Finance is asked to confirm it and every member
/// of the organisation is told its payment details are changing.
pub fn propose(
    conn: &mut DbConn,
    config: &Config,
    keyring: &KeyRing,
    who: &Principal,
    meta: &RequestMeta,
    organisation_id: &str,
    req: NewAccount,
) -> Result<AccountRow, ApiError> {
    let c = checked(&req)?;
    command::run(conn, config, who, meta, |ctx| {
        proposer(ctx.conn, who, organisation_id)?;
        if let Some(old) = &req.replaces_id {
            let replaced = find(ctx.conn, old)?.filter(|r| {
                r.organisation_id == organisation_id && r.status != AccountStatus::Retired
            });
            if replaced.is_none() {
                return Err(ApiError::field(
                    "replaces_id",
                    "unknown",
                    "No account of this organisation in use has this id.",
                ));
            }
        }
        let id = uuid::Uuid::now_v7().to_string();
        let last4: String = c
            .number
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let row = AccountRow {
            number_sealed: keyring.seal(c.number.as_bytes(), &aad(&id)),
            id,
            organisation_id: organisation_id.to_string(),
            holder_name: c.holder_name,
            currency: c.currency,
            scheme: c.scheme,
            number_last4: last4,
            bic: c.bic,
            bank_name: c.bank_name,
            bank_country: c.bank_country,
            status: AccountStatus::Proposed,
            replaces_id: req.replaces_id.clone(),
            proposed_by: who.user().map(|u| u.id.clone()).unwrap_or_default(),
            proposed_at: ctx.now,
            confirmed_by: None,
            confirmed_at: None,
            usable_from: None,
            retired_by: None,
            retired_at: None,
        };
        diesel::insert_into(bank_accounts::table)
            .values(&row)
            .execute(ctx.conn)?;
        let shown = Viewer::Staff.show(&row, keyring, ctx.now)?;
        ctx.audit("proposed", None, Some(&shown))?;
        let mail = AccountMail::of(ctx, &row)?;
        let parties = Parties {
            organisation_id: Some(row.organisation_id.clone()),
            ..Parties::default()
        };
        ctx.tell(
            Event::BankAccountProposed,
            &parties,
            &AccountChangingMail(mail.clone()),
        )?;
        ctx.tell(
            Event::BankAccountProposed,
            &parties,
            &AccountPendingMail(mail),
        )?;
        Ok(row)
    })
}

/// What to do with an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountCommand {
    /// proposed → confirmed (finance, never the proposer); the cooling-off period starts.
    Confirm,
    /// proposed or confirmed → retired (finance, or the organisation's members).
    Retire,
}

/// Confirms or retires an account of `organisation_id`.
#[expect(
    clippy::too_many_arguments,
    reason = "a command on an account of an organisation, with the key ring that shows it"
)]
pub fn run(
    conn: &mut DbConn,
    config: &Config,
    keyring: &KeyRing,
    who: &Principal,
    meta: &RequestMeta,
    organisation_id: &str,
    id: &str,
    cmd: AccountCommand,
) -> Result<AccountRow, ApiError> {
    let viewer = Viewer::try_from(who)?;
    command::run(conn, config, who, meta, |ctx| {
        let before = get(ctx.conn, &viewer, organisation_id, id)?;
        let me = who.user().map(|u| u.id.clone()).unwrap_or_default();
        let moved = match cmd {
            AccountCommand::Confirm => confirm(ctx, &viewer, &before, &me)?,
            AccountCommand::Retire => {
                if matches!(viewer, Viewer::Staff) {
                    return Err(ApiError::Forbidden(
                        "Accounts are retired by the organisation's members or by finance.".into(),
                    ));
                }
                retire(ctx, &before, &me)?
            }
        };
        if moved == 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::InvalidTransition,
                detail: format!(
                    "The account is {}; it cannot be {}.",
                    before.status,
                    match cmd {
                        AccountCommand::Confirm => "confirmed",
                        AccountCommand::Retire => "retired",
                    }
                ),
            });
        }
        let after = by_id(ctx.conn, id)?;
        let verb = match cmd {
            AccountCommand::Confirm => "confirmed",
            AccountCommand::Retire => "retired",
        };
        ctx.audit(
            verb,
            Some(&Viewer::Staff.show(&before, keyring, ctx.now)?),
            Some(&Viewer::Staff.show(&after, keyring, ctx.now)?),
        )?;
        if cmd == AccountCommand::Confirm {
            if let Some(old) = &after.replaces_id {
                let old = by_id(ctx.conn, old)?;
                if retire(ctx, &old, &me)? == 1 {
                    let now = by_id(ctx.conn, &old.id)?;
                    ctx.audit(
                        "retired",
                        Some(&Viewer::Staff.show(&old, keyring, ctx.now)?),
                        Some(&Viewer::Staff.show(&now, keyring, ctx.now)?),
                    )?;
                }
            }
            let mail = AccountMail::of(ctx, &after)?;
            let parties = Parties {
                organisation_id: Some(after.organisation_id.clone()),
                ..Parties::default()
            };
            ctx.tell(
                Event::BankAccountConfirmed,
                &parties,
                &AccountConfirmedMail(mail),
            )?;
        }
        Ok(after)
    })
}

fn confirm(
    ctx: &mut Ctx<'_>,
    viewer: &Viewer,
    before: &AccountRow,
    me: &str,
) -> Result<usize, ApiError> {
    if !matches!(viewer, Viewer::Finance) {
        return Err(ApiError::Forbidden(
            "This action needs the role finance_officer.".into(),
        ));
    }
    if before.proposed_by == me {
        return Err(ApiError::Conflict {
            code: ConflictCode::SelfApproval,
            detail: "An account is confirmed by someone other than the person who proposed it."
                .into(),
        });
    }
    let usable_from = ctx.now + chrono::Duration::hours(ctx.config.bank_account_cooling_off_hours);
    Ok(diesel::update(
        bank_accounts::table
            .find(&before.id)
            .filter(bank_accounts::status.eq(AccountStatus::Proposed))
            .filter(bank_accounts::proposed_by.ne(me)),
    )
    .set((
        bank_accounts::status.eq(AccountStatus::Confirmed),
        bank_accounts::confirmed_by.eq(Some(me)),
        bank_accounts::confirmed_at.eq(Some(ctx.now)),
        bank_accounts::usable_from.eq(Some(usable_from)),
    ))
    .execute(ctx.conn)?)
}

fn retire(ctx: &mut Ctx<'_>, before: &AccountRow, me: &str) -> Result<usize, ApiError> {
    Ok(diesel::update(
        bank_accounts::table
            .find(&before.id)
            .filter(bank_accounts::status.ne(AccountStatus::Retired)),
    )
    .set((
        bank_accounts::status.eq(AccountStatus::Retired),
        bank_accounts::retired_by.eq(Some(me)),
        bank_accounts::retired_at.eq(Some(ctx.now)),
    ))
    .execute(ctx.conn)?)
}

/// What an email about an account says (never its number, only its last four).
#[derive(Debug, Clone, Serialize)]
pub struct AccountMail {
    /// The organisation's name.
    pub organisation_name: String,
    /// Account holder.
    pub holder_name: String,
    /// `****` and the last four characters.
    pub masked_number: String,
    /// ISO 4217 code.
    pub currency: String,
    /// When it may be paid to (set once confirmed).
    pub usable_from: Option<String>,
    /// The page of the account.
    pub account_link: String,
}

impl AccountMail {
    fn of(ctx: &mut Ctx<'_>, r: &AccountRow) -> Result<Self, ApiError> {
        let organisation_name: String = organisations::table
            .find(&r.organisation_id)
            .select(organisations::name)
            .first(ctx.conn)?;
        Ok(Self {
            organisation_name,
            holder_name: r.holder_name.clone(),
            masked_number: r.masked(),
            currency: r.currency.clone(),
            usable_from: r
                .usable_from
                .map(|u| u.format("%-d %B %Y %H:%M UTC").to_string()),
            account_link: crate::notify::links::bank_account(ctx.config, &r.organisation_id, &r.id),
        })
    }
}

/// To every member of the organisation: its payment details are changing.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct AccountChangingMail(pub AccountMail);
impl Message for AccountChangingMail {
    const KIND: Kind = Kind::BankAccountChanging;
}

/// To finance: an account waits for confirmation.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct AccountPendingMail(pub AccountMail);
impl Message for AccountPendingMail {
    const KIND: Kind = Kind::BankAccountPending;
}

/// To every member of the organisation: the account was confirmed and is usable from a date.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct AccountConfirmedMail(pub AccountMail);
impl Message for AccountConfirmedMail {
    const KIND: Kind = Kind::BankAccountConfirmed;
}
