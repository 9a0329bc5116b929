//! Every setting the service reads, declared once: name, type, default, meaning and parser.
//! `Config::from_map`, `.env.example`, the README's configuration table and the start-up
//! errors all come from the `settings!` list below; nothing else names a variable.
//!
//! How to add a setting:
//! 1. Add one entry to the list below, where it belongs in `.env.example`: a `///` line
//!    (its meaning and accepted form: it becomes the README row and the `.env.example`
//!    comment), then `NAME: Type = "default", parser;` with a parser from `parse.rs`
//!    (`parse::int::<u32, 1, 100>`, `parse::boolean`, `parse::text`, …) or a new
//!    `fn(&str) -> Result<Type, String>` there. An empty default means unset.
//! 2. Read it in `Config::from_map` (or the group parser it calls) with
//!    `env.get(&var::NAME)?` and add the field to `Config`. A misspelt `var::NAME` does
//!    not compile, and the parse error already names the variable.
//! 3. Regenerate: `cargo run -q -- env-example > .env.example` and paste
//!    `cargo run -q -- env-example --readme` over README.md's table (tests check both).
//!    A misspelling of the new name is then reported at start like any other (its first
//!    word counts as a settings prefix); a variable read elsewhere goes in [`ALSO_READ`].

use std::net::IpAddr;

use super::parse;
use super::{
    AppEnv, DatabaseUrl, EncryptionKey, IpRange, JwtKey, LogFormat, MailTransportKind, Secret,
    SmtpSecurity, documents, open_data, webhooks,
};
use crate::kit::ssrf::Cidr;

/// One configuration variable as documented: its name, default and what it means.
pub struct Setting {
    /// Environment variable name.
    pub name: &'static str,
    /// Default as written in `.env.example` (empty when unset by default).
    pub default: &'static str,
    /// One line on what it does and the accepted form.
    pub help: &'static str,
}

/// One configuration variable as read: its name, default and parser to `T`.
pub struct Var<T: 'static> {
    /// Environment variable name.
    pub name: &'static str,
    /// Default, used when the variable is unset or empty.
    pub default: &'static str,
    /// Turns the raw text into the value, or says what was expected.
    pub parse: fn(&str) -> parse::Parsed<T>,
}

/// Declares every setting once; makes [`SETTINGS`] (for the documents) and one typed
/// [`var`] constant per setting (for the parser).
macro_rules! settings {
    ($( $(#[doc = $doc:literal])+ $name:ident : $ty:ty = $default:literal, $parse:expr; )+) => {
        /// Every setting the service reads, in `.env.example` order.
        pub const SETTINGS: &[Setting] = &[$(Setting {
            name: stringify!($name),
            default: $default,
            help: concat!($($doc),+),
        }),+];

        /// The typed handle of each setting: `env.get(&var::PORT)`.
        pub mod var {
            use super::*;
            $(
                $(#[doc = $doc])+
                pub const $name: Var<$ty> = Var {
                    name: stringify!($name),
                    default: $default,
                    parse: $parse,
                };
            )+
        }
    };
}

settings! {
    /// IP address the API listens on
    BIND_ADDR: IpAddr = "127.0.0.1", parse::ip;
    /// TCP port the API listens on (1-65535)
    PORT: u16 = "8080", parse::int::<u16, 1, 65535>;
    /// sqlite://PATH (relative to the working directory; an absolute path takes three slashes:
    /// sqlite:///srv/idpc/hub.db) or postgres://USER@HOST:PORT/DB; any other scheme is refused
    DATABASE_URL: DatabaseUrl = "sqlite://data/idpc-hub.db", DatabaseUrl::parse;
    /// connections in the pool (1-256); empty means one per CPU core plus one for SQLite (its
    /// queries run on this process's CPU), 16 for PostgreSQL
    DATABASE_POOL_SIZE: Option<u32> = "", parse::optional_int::<u32, 1, 256>;
    /// development or production; production refuses generated secrets and the file and log mail
    /// transports
    APP_ENV: AppEnv = "development", parse::app_env;
    /// base URL of this service (http:// or https://): the token issuer, the OpenAPI server and the
    /// default of `APP_BASE_URL`; empty means http://127.0.0.1:PORT
    PUBLIC_BASE_URL: Option<String> = "", parse::optional_public_base_url;
    /// base URL of the pages every email link opens (http:// or https://); empty means
    /// `PUBLIC_BASE_URL`, the built-in console; a network with its own front end serves the
    /// console paths of src/notify/links.rs there
    APP_BASE_URL: Option<String> = "", parse::optional_base_url;
    /// the network's name in emails and exports
    NETWORK_NAME: String = "IDPC", parse::text;
    /// kid:secret[,kid:secret...]; the first signs, all verify; secrets of 32+ bytes; generated in
    /// development when empty, into the folder of the SQLite file (data/ with PostgreSQL)
    JWT_KEYS: Vec<JwtKey> = "", parse::jwt_keys;
    /// kid:KEY[,kid:KEY...], each KEY 32 random bytes in base64: the keys that encrypt what is
    /// stored at rest (document files, bank account numbers); the first encrypts, all decrypt, so
    /// a rotation puts the new key first and keeps the old ones; generated in development when
    /// empty, into the folder of the SQLite file (data/ with PostgreSQL)
    ENCRYPTION_KEYS: Vec<EncryptionKey> = "", parse::encryption_keys;
    /// lifetime of an access token in seconds (60-86400)
    ACCESS_TOKEN_TTL_SECS: i64 = "900", parse::int::<i64, 60, 86_400>;
    /// lifetime of a refresh token in days (1-365)
    REFRESH_TOKEN_TTL_DAYS: i64 = "30", parse::int::<i64, 1, 365>;
    /// argon2id memory cost in KiB (at least 19456 = 19 MiB)
    ARGON2_MEMORY_KIB: u32 = "19456", parse::int::<u32, 19_456, 4_194_304>;
    /// argon2id time cost (at least 2)
    ARGON2_ITERATIONS: u32 = "2", parse::int::<u32, 2, 100>;
    /// argon2id lanes (at least 1)
    ARGON2_PARALLELISM: u32 = "1", parse::int::<u32, 1, 64>;
    /// password hashes computed at once; requests beyond this get 503 with Retry-After
    PASSWORD_HASH_CONCURRENCY: usize = "4", parse::int::<usize, 1, 1024>;
    /// login, token and password-reset requests per client IP (IPv6: per /64) per minute
    AUTH_RATE_LIMIT_PER_IP: u32 = "30", parse::int::<u32, 1, 1_000_000>;
    /// login and password-reset requests per account per minute; past it a login from an address
    /// that failed for the account gets 429, any other goes on to the password check
    AUTH_RATE_LIMIT_PER_ACCOUNT: u32 = "10", parse::int::<u32, 1, 1_000_000>;
    /// comma-separated IPs or CIDR ranges of proxies whose X-Forwarded-For names the client; empty
    /// trusts none
    TRUSTED_PROXIES: Vec<IpRange> = "", parse::proxies;
    /// smtp, file (.eml files in mail/ beside the SQLite file, data/mail/ with PostgreSQL) or log
    MAIL_TRANSPORT: MailTransportKind = "file", parse::mail_transport;
    /// SMTP server host (required when MAIL_TRANSPORT=smtp)
    SMTP_HOST: String = "", parse::text;
    /// SMTP server port
    SMTP_PORT: u16 = "587", parse::int::<u16, 1, 65535>;
    /// none, starttls or tls
    SMTP_SECURITY: SmtpSecurity = "starttls", parse::smtp_security;
    /// SMTP user name (optional)
    SMTP_USERNAME: Option<String> = "", parse::optional_text;
    /// SMTP password (optional)
    SMTP_PASSWORD: Option<Secret> = "", parse::optional_secret;
    /// SMTP connect and command timeout in seconds
    SMTP_TIMEOUT_SECS: u64 = "10", parse::int::<u64, 1, 600>;
    /// sender mailbox of every email
    MAIL_FROM: String = "IDPC <no-reply@localhost>", parse::mailbox;
    /// send attempts before an outbox message is marked dead (1-100)
    OUTBOX_MAX_ATTEMPTS: i32 = "8", parse::int::<i32, 1, 100>;
    /// first retry delay in ms; doubles each attempt, with jitter
    OUTBOX_RETRY_BASE_MS: i64 = "2000", parse::int::<i64, 1, 3_600_000>;
    /// how often the notifier looks for due messages, in ms
    OUTBOX_POLL_MS: u64 = "1000", parse::int::<u64, 10, 600_000>;
    /// run the background work inside serve (true/false): the notifier, the daily jobs and webhook
    /// delivery; `idpc-hub worker` runs them alone
    WORKER_ENABLED: bool = "true", parse::boolean;
    /// largest accepted request body in bytes
    MAX_BODY_BYTES: usize = "1048576", parse::int::<usize, 1024, { 1 << 30 }>;
    /// comma-separated origins allowed to call the API from a browser; empty allows none
    CORS_ALLOWED_ORIGINS: Vec<String> = "", parse::origins;
    /// where document files are kept, encrypted: empty for documents/ in the data folder (beside
    /// the SQLite file, data/ with PostgreSQL), a folder path, or s3://BUCKET[/PREFIX] for an
    /// S3-compatible store (see S3_*)
    DOCUMENT_STORE: Option<String> = "", documents::store_url;
    /// largest accepted document file in bytes (default 25 MiB); larger uploads get 413
    DOCUMENT_MAX_BYTES: u64 = "26214400", parse::int::<u64, 1024, { 1 << 40 }>;
    /// bytes of documents one organisation may keep, every version counted (default 1 GiB)
    DOCUMENT_QUOTA_BYTES: u64 = "1073741824", parse::int::<u64, 1024, { 1 << 50 }>;
    /// endpoint URL of the S3-compatible store (e.g. http://127.0.0.1:9000); empty for AWS
    S3_ENDPOINT: Option<String> = "", parse::optional_base_url;
    /// region of the S3 bucket
    S3_REGION: String = "us-east-1", parse::text;
    /// access key id of the S3 store
    S3_ACCESS_KEY_ID: Option<String> = "", parse::optional_text;
    /// secret access key of the S3 store
    S3_SECRET_ACCESS_KEY: Option<Secret> = "", parse::optional_secret;
    /// pretty or json (json is the production choice)
    LOG_FORMAT: LogFormat = "pretty", parse::log_format;
    /// tracing filter, e.g. info or idpc_hub=debug
    RUST_LOG: String = "info", parse::tracing_filter;
    /// membership application attempts per client IP per minute, refused ones included (counted in
    /// the database, shared by every instance)
    APPLICATION_RATE_LIMIT_PER_IP: u32 = "5", parse::int::<u32, 1, 1_000_000>;
    /// membership applications accepted per contact email in 24 hours (counted in the database)
    APPLICATION_LIMIT_PER_EMAIL_PER_DAY: u32 = "3", parse::int::<u32, 1, 1_000_000>;
    /// days after a membership period ends before the membership lapses (0-365)
    MEMBERSHIP_GRACE_DAYS: i64 = "30", parse::int::<i64, 0, 365>;
    /// ISO 4217 code in which every limit is set and the fx-rates table is kept
    BASE_CURRENCY: String = "USD", parse::currency;
    /// how far (0-100 %) a grant's fx_rate may lie from the reference rate of the fx-rates table
    FX_RATE_BAND_PERCENT: i64 = "10", parse::int::<i64, 0, 100>;
    /// amount in BASE_CURRENCY above which a tranche (or one officer's approvals on a grant within
    /// the window, with it) needs two approvers
    SECOND_APPROVAL_THRESHOLD: String = "50000.00", parse::amount_text;
    /// rolling window (1-3650 days) over which one officer's approved tranches of a grant are added
    /// up against SECOND_APPROVAL_THRESHOLD
    SECOND_APPROVAL_WINDOW_DAYS: i64 = "30", parse::int::<i64, 1, 3650>;
    /// hours (0-720) a newly confirmed payee bank account waits before a tranche may be paid to it,
    /// while the organisation's members are told of the change
    BANK_ACCOUNT_COOLING_OFF_HOURS: i64 = "72", parse::int::<i64, 0, 720>;
    /// the network's own account that payment runs are paid from, as written in the ISO 20022
    /// pain.001 file (an IBAN, or an account number); empty refuses to export a run's bank file
    PAYMENT_DEBTOR_ACCOUNT: Option<String> = "", parse::optional_text;
    /// the BIC of PAYMENT_DEBTOR_ACCOUNT's bank; empty writes NOTPROVIDED
    PAYMENT_DEBTOR_BIC: Option<String> = "", parse::optional_text;
    /// raise of a fund's amount (in BASE_CURRENCY) above which a second finance officer or admin
    /// must confirm it
    FUND_INCREASE_SECOND_APPROVAL_THRESHOLD: String = "100000.00", parse::amount_text;
    /// rolling window (1-3650 days) over which the raises of a fund that one person applied alone
    /// are added up against FUND_INCREASE_SECOND_APPROVAL_THRESHOLD
    FUND_INCREASE_WINDOW_DAYS: i64 = "30", parse::int::<i64, 1, 3650>;
    /// how far (0-100 %) a new reference rate may move from the confirmed one and still apply at
    /// once; beyond it (and for a currency's first rate) a second finance officer or admin
    /// confirms it
    FX_RATE_CHANGE_BAND_PERCENT: i64 = "15", parse::int::<i64, 0, 100>;
    /// how many days (1-3650) in the past the date (as_of) of a new reference rate may lie
    FX_RATE_MAX_AGE_DAYS: i64 = "366", parse::int::<i64, 1, 3650>;
    /// share (0-100 %) of a budget line that an approved grant's budget may move to or from it
    /// and still apply at once; a larger move waits for a grant officer other than its proposer
    BUDGET_REVISION_TOLERANCE_PERCENT: i64 = "10", parse::int::<i64, 0, 100>;
    /// how far (0-1000 %) a financial report's actual spend on a budget line may lie from the
    /// line's amount before the variance answer flags the line
    BUDGET_VARIANCE_TOLERANCE_PERCENT: i64 = "10", parse::int::<i64, 0, 1000>;
    /// the network's own org-id identifier in the 360Giving and IATI exports, e.g. GB-COH-01234567
    /// (scheme from standards/org-id/schemes.csv); empty uses GIVING_PREFIX
    OPEN_DATA_ORG_ID: Option<String> = "", open_data::org_id;
    /// the network's name as funder and reporting organisation in the exports; empty uses
    /// NETWORK_NAME
    OPEN_DATA_ORG_NAME: Option<String> = "", parse::optional_text;
    /// IATI OrganisationType code of the network as reporting organisation (21 international NGO,
    /// 22 national NGO, 23 regional NGO, 60 foundation, ...)
    OPEN_DATA_ORG_TYPE: String = "21", open_data::org_type;
    /// 360Giving identifier prefix (360G-...): grant ids and the ids of organisations without an
    /// identifier start with it
    GIVING_PREFIX: String = "360G-IDPC", open_data::giving_prefix;
    /// website of the publisher in the 360Giving package (http(s) URL; optional)
    OPEN_DATA_PUBLISHER_WEBSITE: Option<String> = "", open_data::website;
    /// canonical URL of the licence of the exported open data
    OPEN_DATA_LICENSE: String = "https://creativecommons.org/licenses/by/4.0/", open_data::license;
    /// area:code per priority area (every area once): the DAC 5-digit purpose code of IATI sectors
    /// (15130 legal and judicial development, 15170 women's rights organisations, 16063 narcotics
    /// control, 15150 democratic participation and civil society)
    IATI_DAC_SECTORS: Vec<(String, String)> = "decriminalisation_justice_reform:15130,women_drug_policy:15170,support_dont_punish:16063,cross_un_common_position:16063,civil_society_space:15150", open_data::parse_sectors;
    /// comma-separated CIDR ranges webhook destinations may resolve to although loopback, private
    /// or link-local (e.g. `127.0.0.0/8` for a local receiver); empty allows none
    WEBHOOK_ALLOWED_CIDRS: Vec<Cidr> = "", webhooks::cidrs;
    /// accept http:// webhook URLs in production (true/false); development always accepts them
    WEBHOOK_ALLOW_HTTP: bool = "false", parse::lenient_boolean;
    /// attempts before a webhook delivery fails for good and its subscription is disabled (1-100;
    /// 16 at the default base spans about three days)
    WEBHOOK_MAX_ATTEMPTS: i32 = "16", parse::int::<i32, 1, 100>;
    /// first webhook retry delay in ms; doubles each attempt, with jitter
    WEBHOOK_RETRY_BASE_MS: i64 = "8000", parse::int::<i64, 1, 3_600_000>;
    /// total time of one webhook attempt in ms (connect, send, answer)
    WEBHOOK_TIMEOUT_MS: u64 = "10000", parse::int::<u64, 100, 120_000>;
    /// webhook attempts in flight per destination host and worker
    WEBHOOK_CONCURRENCY_PER_DESTINATION: usize = "4", parse::int::<usize, 1, 1000>;
    /// webhook attempts in flight per worker
    WEBHOOK_CONCURRENCY: usize = "64", parse::int::<usize, 1, 10_000>;
    /// seconds the previous webhook secret keeps signing after a rotation (0-2592000)
    WEBHOOK_ROTATION_WINDOW_SECS: i64 = "86400", parse::int::<i64, 0, 2_592_000>;
    /// days the webhook delivery log keeps response bodies
    WEBHOOK_LOG_RETENTION_DAYS: i64 = "30", parse::int::<i64, 1, 3650>;
    /// how often the webhook dispatcher looks for due deliveries, in ms
    WEBHOOK_POLL_MS: u64 = "500", parse::int::<u64, 10, 600_000>;
    /// replays one webhook subscription may ask for in any hour (1-1000); beyond, `429` with
    /// `Retry-After`
    WEBHOOK_REPLAYS_PER_HOUR: i64 = "5", parse::int::<i64, 1, 1000>;
}

/// Variables read outside `Config` (by a command or by the tests): allowed although they
/// carry a settings prefix, and listed in the README with the settings.
pub const ALSO_READ: &[Setting] = &[
    Setting {
        name: "IDPC_ADMIN_PASSWORD",
        default: "",
        help: "`create-admin` only: the new admin's password (else it asks on a terminal)",
    },
    Setting {
        name: "TEST_DATABASE_URL",
        default: "",
        help: "tests only: when set, every test also runs on this PostgreSQL server, in a throwaway database",
    },
    Setting {
        name: "IDPC_SKIP_BROWSER_TESTS",
        default: "",
        help: "tests only: `1` skips the browser test knowingly when no Chromium is installed",
    },
    Setting {
        name: "IDPC_SCREENSHOTS",
        default: "",
        help: "tests only: a folder where the browser test saves its screenshots",
    },
    Setting {
        name: "IDPC_S3S_FS",
        default: "",
        help: "tests only: path of the `s3s-fs` binary the S3 document tests start (default `.ci/tools/bin/s3s-fs`, which `.ci/run` installs)",
    },
    Setting {
        name: "IDPC_TEST_CRASH_AFTER_COMMIT",
        default: "",
        help: "tests only: `1` aborts the process after a keyed command commits, before it answers (ignored when APP_ENV=production)",
    },
];
