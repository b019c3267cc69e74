//! `garrison`: security operations for MSSPs, as one binary.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod config;
mod demo_events;
mod runtime;
mod syslog;
mod tls;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ServeArgs};
use crate::commands::{admin, bench, demo, events, import, ingest, serve};

/// mimalloc rather than glibc's malloc: see the workspace manifest.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::config::{Config, Flags, LogFormat, ProcessEnv};

/// Exit status for a bad configuration or command line.
const EXIT_USAGE: u8 = 2;

fn init_logging(config: &Config, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if serving || std::env::var_os("GARRISON_LOG").is_some() {
        config.log_level.clone()
    } else {
        "warn".to_owned()
    };
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn flags(cli: &Cli, serve: Option<&ServeArgs>) -> Flags {
    Flags {
        data_dir: cli.global.data_dir.clone(),
        config: cli.global.config.clone(),
        listen: serve.and_then(|s| s.listen.clone()),
        tls_cert: serve.and_then(|s| s.tls_cert.clone()),
        tls_key: serve.and_then(|s| s.tls_key.clone()),
        insecure_http: serve.is_some_and(|s| s.insecure_http),
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { role, .. } => {
            let roles = serve::Roles::parse(&role)?;
            serve::serve(&config, roles).await?;
        }
        Command::Demo { .. } => demo::demo(&config).await?,
        Command::Migrate { json } => admin::migrate(&config, json).await?,
        Command::Tenant(cmd) => admin::tenant(&config, cmd).await?,
        Command::User(cmd) => admin::user(&config, cmd).await?,
        Command::Token(cmd) => admin::token(&config, cmd).await?,
        Command::IngestToken(cmd) => admin::ingest_token(&config, cmd).await?,
        Command::Import(cmd) => {
            import::import(&config, cmd).await?;
        }
        Command::Ingest(args) => ingest::ingest(&config, args).await?,
        Command::Events(cmd) => {
            if !events::events(&config, cmd).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Audit(cmd) => {
            if !admin::audit(&config, cmd).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Bench(args) => {
            if !bench::bench(&config, &args).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let serve_args = match &cli.command {
        Command::Serve { serve, .. } | Command::Demo { serve } => Some(serve),
        _ => None,
    };
    // `serve` logs at info; `demo` keeps its banner clean, and the other
    // commands stay quiet unless GARRISON_LOG asks otherwise.
    let serving = matches!(cli.command, Command::Serve { .. });
    let config = match Config::load(&flags(&cli, serve_args), &ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("garrison: configuration error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    init_logging(&config, serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("garrison: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<config::ConfigError>().is_some() => {
            // Found only once the store is open (a listener's unknown
            // tenant): reported like any other configuration error.
            eprintln!("garrison: configuration error: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            // One line: the error and its causes.
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("garrison: error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
