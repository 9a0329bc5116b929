//! The command line: `serve` (default), `worker`, `migrate`, `openapi`.

use clap::{Parser, Subcommand};

/// idpc-hub: the directory and onward grants of a civil-society network.
#[derive(Parser, Debug)]
#[command(name = "idpc-hub", version, about)]
pub struct Cli {
    /// What to run; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP API (and the notifier unless WORKER_ENABLED=false).
    Serve,
    /// Run only the background work: the notifier, the daily jobs and webhook delivery.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Print `.env.example`, generated from the settings.
    EnvExample {
        /// Print README.md's configuration table instead.
        #[arg(long)]
        readme: bool,
    },
    /// Create an active admin; the password comes from IDPC_ADMIN_PASSWORD or a TTY prompt.
    CreateAdmin {
        /// The admin's email address.
        #[arg(long)]
        email: String,
        /// The admin's display name.
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Seed a demo network that exercises every endpoint; prints the demo accounts and the
    /// partner app's secret once (refused when APP_ENV=production).
    DemoData,
    /// Work on stored documents.
    Documents {
        /// What to do.
        #[command(subcommand)]
        action: DocumentsCommand,
    },
}

/// `documents` subcommands.
#[derive(Subcommand, Debug)]
pub enum DocumentsCommand {
    /// Re-read every stored object, decrypt it and check its SHA-256; exits non-zero and
    /// names each document that differs.
    Verify,
}
