//! The `idpc-hub` binary: parse the command line, load configuration, run.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use idpc_hub::cli::{Cli, Command};
use idpc_hub::config::Config;

fn main() {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // These two print generated files and need no configuration.
    match command {
        Command::Openapi => return print!("{}", idpc_hub::openapi::spec_json()),
        Command::EnvExample { readme } => return print!("{}", idpc_hub::config::generated(readme)),
        _ => {}
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    idpc_hub::telemetry::init(config.log_format, &config.rust_log);
    if let Err(e) = idpc_hub::run(command, config) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
