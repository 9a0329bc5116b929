//! Every setting the service reads, with its default and meaning: the single source of
//! `.env.example` and the README's configuration table.

/// One configuration variable: its name, default and what it means.
pub struct Setting {
    /// Environment variable name.
    pub name: &'static str,
    /// Default as written in `.env.example` (empty when unset by default).
    pub default: &'static str,
    /// One line on what it does and the accepted form.
    pub help: &'static str,
}

/// Every setting the service reads. The single source for `.env.example`.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "BIND_ADDR",
        default: "127.0.0.1",
        help: "IP address the API listens on",
    },
    Setting {
        name: "PORT",
        default: "8080",
        help: "TCP port the API listens on (1-65535)",
    },
    Setting {
        name: "DATABASE_URL",
        default: "sqlite://data/idpc-hub.db",
        help: "sqlite://PATH (relative to the working directory; an absolute path takes three slashes: sqlite:///srv/idpc/hub.db) or postgres://USER@HOST:PORT/DB; any other scheme is refused",
    },
    Setting {
        name: "DATABASE_POOL_SIZE",
        default: "",
        help: "connections in the pool (1-256); empty means one per CPU core plus one for SQLite (its queries run on this process's CPU), 16 for PostgreSQL",
    },
    Setting {
        name: "APP_ENV",
        default: "development",
        help: "development or production; production refuses generated secrets and the file and log mail transports",
    },
    Setting {
        name: "PUBLIC_BASE_URL",
        default: "",
        help: "base URL of this service (http:// or https://): the token issuer, the OpenAPI server and the default of APP_BASE_URL; empty means http://127.0.0.1:PORT",
    },
    Setting {
        name: "APP_BASE_URL",
        default: "",
        help: "base URL of the pages every email link opens (http:// or https://); empty means PUBLIC_BASE_URL, the built-in console",
    },
    Setting {
        name: "NETWORK_NAME",
        default: "IDPC",
        help: "the network's name in emails and exports",
    },
    Setting {
        name: "JWT_KEYS",
        default: "",
        help: "kid:secret[,kid:secret...]; the first signs, all verify; secrets of 32+ bytes; generated in development when empty, into the folder of the SQLite file (data/ with PostgreSQL)",
    },
    Setting {
        name: "ACCESS_TOKEN_TTL_SECS",
        default: "900",
        help: "lifetime of an access token in seconds (60-86400)",
    },
    Setting {
        name: "REFRESH_TOKEN_TTL_DAYS",
        default: "30",
        help: "lifetime of a refresh token in days (1-365)",
    },
    Setting {
        name: "ARGON2_MEMORY_KIB",
        default: "19456",
        help: "argon2id memory cost in KiB (at least 19456 = 19 MiB)",
    },
    Setting {
        name: "ARGON2_ITERATIONS",
        default: "2",
        help: "argon2id time cost (at least 2)",
    },
    Setting {
        name: "ARGON2_PARALLELISM",
        default: "1",
        help: "argon2id lanes (at least 1)",
    },
    Setting {
        name: "PASSWORD_HASH_CONCURRENCY",
        default: "4",
        help: "password hashes computed at once; requests beyond this get 503 with Retry-After",
    },
    Setting {
        name: "AUTH_RATE_LIMIT_PER_IP",
        default: "30",
        help: "login, token and password-reset requests per client IP per minute",
    },
    Setting {
        name: "AUTH_RATE_LIMIT_PER_ACCOUNT",
        default: "10",
        help: "login and password-reset requests per account per minute",
    },
    Setting {
        name: "TRUSTED_PROXIES",
        default: "",
        help: "comma-separated IPs or CIDR ranges of proxies whose X-Forwarded-For names the client; empty trusts none",
    },
    Setting {
        name: "MAIL_TRANSPORT",
        default: "file",
        help: "smtp, file (.eml files in mail/ beside the SQLite file, data/mail/ with PostgreSQL) or log",
    },
    Setting {
        name: "SMTP_HOST",
        default: "",
        help: "SMTP server host (required when MAIL_TRANSPORT=smtp)",
    },
    Setting {
        name: "SMTP_PORT",
        default: "587",
        help: "SMTP server port",
    },
    Setting {
        name: "SMTP_SECURITY",
        default: "starttls",
        help: "none, starttls or tls",
    },
    Setting {
        name: "SMTP_USERNAME",
        default: "",
        help: "SMTP user name (optional)",
    },
    Setting {
        name: "SMTP_PASSWORD",
        default: "",
        help: "SMTP password (optional)",
    },
    Setting {
        name: "SMTP_TIMEOUT_SECS",
        default: "10",
        help: "SMTP connect and command timeout in seconds",
    },
    Setting {
        name: "MAIL_FROM",
        default: "IDPC <no-reply@localhost>",
        help: "sender mailbox of every email",
    },
    Setting {
        name: "OUTBOX_MAX_ATTEMPTS",
        default: "8",
        help: "send attempts before an outbox message is marked dead (1-100)",
    },
    Setting {
        name: "OUTBOX_RETRY_BASE_MS",
        default: "2000",
        help: "first retry delay in ms; doubles each attempt, with jitter",
    },
    Setting {
        name: "OUTBOX_POLL_MS",
        default: "1000",
        help: "how often the notifier looks for due messages, in ms",
    },
    Setting {
        name: "WORKER_ENABLED",
        default: "true",
        help: "run the background work inside serve (true/false): the notifier, the daily jobs and webhook delivery; `idpc-hub worker` runs them alone",
    },
    Setting {
        name: "MAX_BODY_BYTES",
        default: "1048576",
        help: "largest accepted request body in bytes",
    },
    Setting {
        name: "CORS_ALLOWED_ORIGINS",
        default: "",
        help: "comma-separated origins allowed to call the API from a browser; empty allows none",
    },
    Setting {
        name: "LOG_FORMAT",
        default: "pretty",
        help: "pretty or json (json is the production choice)",
    },
    Setting {
        name: "RUST_LOG",
        default: "info",
        help: "tracing filter, e.g. info or idpc_hub=debug",
    },
    Setting {
        name: "APPLICATION_RATE_LIMIT_PER_IP",
        default: "5",
        help: "membership application attempts per client IP per minute, refused ones included (counted in the database, shared by every instance)",
    },
    Setting {
        name: "APPLICATION_LIMIT_PER_EMAIL_PER_DAY",
        default: "3",
        help: "membership applications accepted per contact email in 24 hours (counted in the database)",
    },
    Setting {
        name: "MEMBERSHIP_GRACE_DAYS",
        default: "30",
        help: "days after a membership period ends before the membership lapses (0-365)",
    },
    Setting {
        name: "BASE_CURRENCY",
        default: "USD",
        help: "ISO 4217 code in which every limit is set and the fx-rates table is kept",
    },
    Setting {
        name: "FX_RATE_BAND_PERCENT",
        default: "10",
        help: "how far (0-100 %) a grant's fx_rate may lie from the reference rate of the fx-rates table",
    },
    Setting {
        name: "SECOND_APPROVAL_THRESHOLD",
        default: "50000.00",
        help: "amount in BASE_CURRENCY above which a tranche (or one officer's approvals on a grant within the window, with it) needs two approvers",
    },
    Setting {
        name: "SECOND_APPROVAL_WINDOW_DAYS",
        default: "30",
        help: "rolling window (1-3650 days) over which one officer's approved tranches of a grant are added up against SECOND_APPROVAL_THRESHOLD",
    },
    Setting {
        name: "FUND_INCREASE_SECOND_APPROVAL_THRESHOLD",
        default: "100000.00",
        help: "raise of a fund's amount (in BASE_CURRENCY) above which a second finance officer or admin must confirm it",
    },
    Setting {
        name: "OPEN_DATA_ORG_ID",
        default: "",
        help: "the network's own org-id identifier in the 360Giving and IATI exports, e.g. GB-COH-01234567 (scheme from standards/org-id/schemes.csv); empty uses GIVING_PREFIX",
    },
    Setting {
        name: "OPEN_DATA_ORG_NAME",
        default: "",
        help: "the network's name as funder and reporting organisation in the exports; empty uses NETWORK_NAME",
    },
    Setting {
        name: "OPEN_DATA_ORG_TYPE",
        default: "21",
        help: "IATI OrganisationType code of the network as reporting organisation (21 international NGO, 22 national NGO, 23 regional NGO, 60 foundation, ...)",
    },
    Setting {
        name: "GIVING_PREFIX",
        default: "360G-IDPC",
        help: "360Giving identifier prefix (360G-...): grant ids and the ids of organisations without an identifier start with it",
    },
    Setting {
        name: "OPEN_DATA_PUBLISHER_WEBSITE",
        default: "",
        help: "website of the publisher in the 360Giving package (http(s) URL; optional)",
    },
    Setting {
        name: "OPEN_DATA_LICENSE",
        default: "https://creativecommons.org/licenses/by/4.0/",
        help: "canonical URL of the licence of the exported open data",
    },
    Setting {
        name: "IATI_DAC_SECTORS",
        default: "decriminalisation_justice_reform:15130,women_drug_policy:15170,support_dont_punish:16063,cross_un_common_position:16063,civil_society_space:15150",
        help: "area:code per priority area (every area once): the DAC 5-digit purpose code of IATI sectors",
    },
    Setting {
        name: "WEBHOOK_ALLOWED_CIDRS",
        default: "",
        help: "comma-separated CIDR ranges webhook destinations may resolve to although loopback, private or link-local (e.g. 127.0.0.0/8 for local receivers); empty allows none",
    },
    Setting {
        name: "WEBHOOK_ALLOW_HTTP",
        default: "false",
        help: "accept http:// webhook URLs in production (true/false); development always accepts them",
    },
    Setting {
        name: "WEBHOOK_MAX_ATTEMPTS",
        default: "16",
        help: "attempts before a webhook delivery fails for good and its subscription is disabled (1-100; 16 at the default base spans about three days)",
    },
    Setting {
        name: "WEBHOOK_RETRY_BASE_MS",
        default: "8000",
        help: "first webhook retry delay in ms; doubles each attempt, with jitter",
    },
    Setting {
        name: "WEBHOOK_TIMEOUT_MS",
        default: "10000",
        help: "total time of one webhook attempt in ms (connect, send, answer)",
    },
    Setting {
        name: "WEBHOOK_CONCURRENCY_PER_DESTINATION",
        default: "4",
        help: "webhook attempts in flight per destination host and worker",
    },
    Setting {
        name: "WEBHOOK_CONCURRENCY",
        default: "64",
        help: "webhook attempts in flight per worker",
    },
    Setting {
        name: "WEBHOOK_ROTATION_WINDOW_SECS",
        default: "86400",
        help: "seconds the previous webhook secret keeps signing after a rotation (0-2592000)",
    },
    Setting {
        name: "WEBHOOK_LOG_RETENTION_DAYS",
        default: "30",
        help: "days the webhook delivery log keeps response bodies",
    },
    Setting {
        name: "WEBHOOK_POLL_MS",
        default: "500",
        help: "how often the webhook dispatcher looks for due deliveries, in ms",
    },
];
