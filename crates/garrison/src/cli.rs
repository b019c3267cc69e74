//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use garrison_app::events::ingest::Format as EventFormat;

/// Garrison: security operations for managed security service providers.
///
/// One binary runs everything. Data lives in a directory (SQLite inside it
/// by default); set GARRISON_DATABASE_URL=postgres://... to use PostgreSQL.
#[derive(Debug, Parser)]
#[command(
    name = "garrison",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Data directory: database, secret key, TLS certificate, garrison.toml.
    #[arg(long, global = true, env = "GARRISON_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file [default: DIR/garrison.toml when present].
    #[arg(long, global = true, env = "GARRISON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8443].
    #[arg(long, env = "GARRISON_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// TLS certificate chain (PEM). Without it a self-signed certificate is
    /// generated in the data directory.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP, for use behind a reverse proxy that terminates TLS.
    #[arg(long)]
    pub insecure_http: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Garrison: web portal and API, background jobs, syslog listeners.
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
        /// Roles to run, comma-separated, for scale-out [default: all].
        /// Available now: web, jobs, ingest.
        #[arg(long, value_delimiter = ',', value_name = "ROLES")]
        role: Vec<String>,
    },
    /// Create a demo MSSP with two customer tenants and their users, then
    /// serve it. Safe to run again: it prints a fresh one-time admin password.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Print machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Customer organisations.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Tenants' ingest tokens: what sensors and forwarders send events to
    /// `POST /ingest/v1/events` with.
    #[command(subcommand)]
    IngestToken(IngestTokenCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import asset lists and scanner reports into a tenant's inventory, and
    /// vulnerability data (NVD, CISA KEV, FIRST EPSS) for all tenants.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Ingest a log file into a tenant's events: one event per non-blank
    /// line, parsed as FORMAT, stored before the command returns.
    Ingest(IngestArgs),
    /// Stored events: their retention per tenant and its purge.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Measure the performance targets on this machine (imports of a 300 MB
    /// Nessus report and a 100,000-row asset list, hostile XML refused, asset
    /// index lookups, events ingested over TCP syslog and HTTP) on a
    /// throw-away database. Exit status 1 when a target is missed. Build with
    /// --release for meaningful figures.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Only these measurements (as --only): nessus, csv, xml, index,
    /// ingest.
    #[arg(value_name = "MEASUREMENT")]
    pub what: Vec<String>,
    /// Only these measurements: nessus, csv, xml, index, ingest
    /// (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// How long the ingest benchmark floods the server (the paced latency
    /// run takes half as long).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub ingest_seconds: u64,
    /// Events a second of the ingest benchmark's latency run.
    #[arg(long, default_value_t = 25_000, value_name = "EVENTS")]
    pub ingest_rate: u64,
    /// Size of the synthetic Nessus report in MB (targets scale with it).
    #[arg(long, default_value_t = 300)]
    pub nessus_mb: u64,
    /// Rows of the synthetic asset list (targets scale with it).
    #[arg(long, default_value_t = 100_000)]
    pub csv_rows: u64,
    /// Run on this (empty, throw-away) PostgreSQL database instead of a
    /// temporary SQLite file.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The log file, one record per line (lines over 64 KiB are cut).
    pub file: PathBuf,
    /// The customer organisation (slug).
    #[arg(long)]
    pub tenant: String,
    /// The lines' format: auto (detected line by line), syslog (RFC 5424 or
    /// RFC 3164 by header), rfc5424, rfc3164, cef, leef, json, suricata
    /// (EVE JSON), zeek (JSON logs), windows (Windows events as JSON).
    #[arg(long, default_value = "auto", value_parser = parse_event_format)]
    pub format: EventFormat,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_event_format(s: &str) -> Result<EventFormat, String> {
    s.parse()
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Delete the events older than their tenant's retention, once, and
    /// print what was deleted (`serve` does this every hour). Exits 1 when
    /// a tenant's purge failed.
    Purge {
        /// Only this customer organisation (slug) [default: every tenant].
        #[arg(long)]
        tenant: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show how many days each tenant keeps its events (90 unless set), or
    /// set it for one tenant with --days.
    Retention {
        /// Only this customer organisation (slug).
        #[arg(long)]
        tenant: Option<String>,
        /// Keep the tenant's events this many days (1 to 3650); older
        /// events go at the next purge.
        #[arg(long, requires = "tenant", value_name = "DAYS")]
        days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// An asset list (CSV or JSON; `garrison import template` prints the
    /// CSV columns).
    Assets(ImportArgs),
    /// A scanner report: Nmap XML, Nessus (.nessus v2), OpenVAS/GVM XML,
    /// Qualys XML, or findings exported as CSV (Nessus, Tenable, OpenVAS,
    /// Qualys, generic).
    Scan(ImportArgs),
    /// Vulnerability data all tenants share: an NVD CVE JSON 2.0 file, the
    /// CISA KEV catalogue (JSON) or FIRST EPSS scores (CSV, decompressed).
    /// Afterwards every asset's risk is recomputed and, after NVD data,
    /// installed software is matched against the CVEs.
    Vulndb(VulndbArgs),
    /// Threat-intelligence indicators for one tenant (`--tenant`) or for
    /// every tenant (`--mssp-wide`, MSSP staff only): CSV with a header
    /// (type, value, confidence, valid_from, valid_until, source, tlp,
    /// tags; only value is required) or a plain list, one value a line
    /// (`#` starts a comment). Types are detected when not given. A feed
    /// imported again updates its indicators (same scope, type, value and
    /// source) instead of adding new ones. See docs/intel.md.
    Intel(IntelArgs),
    /// Detection rules for every tenant: a folder (searched for .yml and
    /// .yaml files) or one file of Sigma rules as SigmaHQ writes them, or
    /// Garrison's threshold and sequence rules (docs/correlation-rules.md).
    /// A file whose rules all load is stored (replacing the file of the
    /// same path loaded before); every rule that fails is listed with the
    /// reason. Tenants switch rules off or add exceptions in the portal.
    Rules(RulesArgs),
    /// Print a CSV template for asset lists.
    Template,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A folder of rules (searched recursively) or one rule file.
    pub path: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IntelArgs {
    /// The file to import.
    pub file: PathBuf,
    /// The customer organisation (slug) whose indicators these are.
    #[arg(
        long,
        required_unless_present = "mssp_wide",
        conflicts_with = "mssp_wide"
    )]
    pub tenant: Option<String>,
    /// Indicators of the MSSP, matched against every tenant's events.
    #[arg(long)]
    pub mssp_wide: bool,
    /// csv or txt [default: csv for .csv/.tsv files, else txt].
    #[arg(long)]
    pub format: Option<String>,
    /// The type of values that do not say (ipv4, ipv6, cidr, domain, url,
    /// md5, sha1, sha256, email, ja3, ja4) [default: detected].
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// The feed's name, part of each indicator's key [default: the file
    /// name].
    #[arg(long)]
    pub source: Option<String>,
    /// Confidence 0 to 100 of rows that do not say.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub confidence: u8,
    /// TLP of rows that do not say: clear, green, amber, amber+strict, red.
    #[arg(long, default_value = "amber")]
    pub tlp: String,
    /// Rows without valid_until stay valid this many days from now
    /// [default: until revoked].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub valid_days: Option<u32>,
    /// A tag for every indicator of the file (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VulndbArgs {
    /// The file to import.
    pub file: PathBuf,
    /// The file's format [default: detected]: nvd, kev or epss.
    #[arg(long)]
    pub format: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import.
    pub file: PathBuf,
    /// The customer organisation (slug).
    #[arg(long)]
    pub tenant: String,
    /// The file's format [default: detected]: csv, json, nmap, nessus,
    /// openvas, qualys, scan-csv (scanner findings as CSV: Nessus, Tenable,
    /// OpenVAS, Qualys or a generic list).
    #[arg(long)]
    pub format: Option<String>,
    /// The network zone of the hosts, where the tenant's ranges do not say
    /// (the same private address at two sites is two assets).
    #[arg(long)]
    pub zone: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a customer organisation.
    Create {
        /// Short name used in URLs and commands, e.g. acme-corp.
        slug: String,
        /// Display name [default: the slug].
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List customer organisations.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print a one-time password (to be changed at first
    /// login).
    Create {
        email: String,
        /// mssp-admin, mssp-analyst, mssp-engineer, customer-admin,
        /// customer-responder or customer-viewer.
        #[arg(long)]
        role: String,
        /// The customer organisation (slug), for customer roles.
        #[arg(long)]
        tenant: Option<String>,
        /// Display name [default: the part of the e-mail before @].
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Assign an MSSP analyst or engineer to a customer organisation.
    Assign {
        email: String,
        #[arg(long)]
        tenant: String,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create {
        /// The user the token acts for.
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. ci.
        #[arg(long)]
        name: String,
        /// Days until it expires [default: never].
        #[arg(long, value_name = "DAYS")]
        expires_days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IngestTokenCommand {
    /// Create an ingest token for a tenant and print it once.
    Create {
        /// The tenant whose events it sends (slug).
        #[arg(long)]
        tenant: String,
        /// Names the source (`http:NAME`): letters, digits, `-`, `_`, `.`,
        /// `:`.
        #[arg(long)]
        name: String,
        /// How its lines are read: auto, syslog, rfc5424, rfc3164, cef,
        /// leef, json, suricata, zeek, windows.
        #[arg(long, default_value = "auto")]
        format: String,
        /// A network (CIDR) or address senders must come from; repeatable
        /// [default: anywhere].
        #[arg(long, value_name = "CIDR")]
        allow: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List ingest tokens (never their secrets).
    List {
        /// Only this tenant's (slug).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an ingest token: senders using it are refused at once.
    Revoke {
        /// The tenant it belongs to (slug).
        #[arg(long)]
        tenant: String,
        /// The token's id (from `list`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit chain; exits non-zero and names each altered,
    /// inserted or deleted record.
    Verify {
        #[arg(long)]
        json: bool,
    },
}
