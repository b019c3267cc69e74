//! Configuration in two stages: raw values from `garrison.toml`, the
//! `GARRISON_*` environment and command-line flags (flags beat the
//! environment, which beats the file), then one validated [`Config`].
//! Every error names where the bad value came from and why it is wrong.
//! Secrets are read from the value or from a `*_FILE`, and kept in
//! redacting types.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use garrison_core::{Secret, TenantId};
use garrison_ingest::listen::{ListenerConfig, ListenerKind};
use serde::Deserialize;

/// `garrison.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub server: FileServer,
    #[serde(default)]
    pub database: FileDatabase,
    #[serde(default)]
    pub security: FileSecurity,
    #[serde(default)]
    pub metrics: FileMetrics,
    #[serde(default)]
    pub log: FileLog,
    #[serde(default)]
    pub ingest: FileIngest,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIngest {
    #[serde(default)]
    pub listeners: Vec<FileListener>,
    /// `POST /ingest/v1/events`: the largest body as sent.
    pub http_max_body_bytes: Option<u64>,
    /// ... and after gzip decompression.
    pub http_max_decompressed_bytes: Option<u64>,
}

/// One `[[ingest.listeners]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileListener {
    pub id: String,
    pub tenant: String,
    pub kind: String,
    pub listen: String,
    pub format: Option<String>,
    pub max_line: Option<u64>,
    pub overlong: Option<String>,
    pub allow: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServer {
    pub listen: Option<String>,
    pub insecure_http: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub trusted_proxies: Option<Vec<String>>,
    pub max_body_bytes: Option<u64>,
    pub max_upload_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDatabase {
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSecurity {
    pub secret_key_file: Option<PathBuf>,
    pub session_idle_minutes: Option<u64>,
    pub session_absolute_hours: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMetrics {
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLog {
    pub level: Option<String>,
    pub format: Option<String>,
}

/// Values given on the command line (the global flags).
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub insecure_http: bool,
}

#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres {
        url: Secret<String>,
        max_connections: u32,
    },
}

#[derive(Debug, Clone)]
pub enum Tls {
    /// Serve plain HTTP behind a TLS-terminating proxy.
    Off,
    /// Use this certificate and key.
    Files { cert: PathBuf, key: PathBuf },
    /// Generate (once) a self-signed certificate in the data directory.
    SelfSigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub tls: Tls,
    pub trusted_proxies: Vec<IpAddr>,
    pub max_body_bytes: usize,
    /// The largest file accepted for import through the portal or API.
    pub max_upload_bytes: u64,
    pub database: Database,
    /// Where the master secret comes from: a value, or a file (created with
    /// a fresh random key if it does not exist).
    pub secret: SecretSource,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub metrics_token: Option<Secret<String>>,
    pub log_level: String,
    pub log_format: LogFormat,
    /// Syslog listeners (`[[ingest.listeners]]`), checked but with their
    /// tenant still a slug: it is resolved when the server starts.
    pub listeners: Vec<SyslogListener>,
    /// Limits of HTTP ingestion (`ingest.http_max_body_bytes`,
    /// `ingest.http_max_decompressed_bytes`).
    pub ingest_http: garrison_web::IngestLimits,
}

/// A configured syslog listener.
#[derive(Debug, Clone)]
pub struct SyslogListener {
    /// Where it was configured, for messages
    /// (`garrison.toml: ingest.listeners[0]`).
    pub origin: String,
    /// The tenant's slug.
    pub tenant: String,
    /// The listener; its `tenant` is a placeholder until resolved.
    pub config: ListenerConfig,
}

#[derive(Debug, Clone)]
pub enum SecretSource {
    Value(Secret<String>),
    File(PathBuf),
}

/// A configuration value that cannot be used.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Reads environment variables; a seam so tests can supply their own.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

#[derive(Debug)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// One value and where it came from.
struct Val {
    raw: String,
    origin: String,
}

impl Val {
    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.raw.trim().parse().map_err(|e| {
            ConfigError(format!(
                "{}: `{}` is not {what}: {e}",
                self.origin,
                self.raw.escape_default()
            ))
        })
    }
}

struct Resolver<'a> {
    env: &'a dyn Env,
    file_name: String,
}

impl Resolver<'_> {
    /// The first of: flag, environment variable, file key.
    fn pick(
        &self,
        flag: Option<(&str, String)>,
        env: &str,
        file: Option<(&str, String)>,
    ) -> Option<Val> {
        if let Some((name, raw)) = flag {
            return Some(Val {
                raw,
                origin: name.to_owned(),
            });
        }
        if let Some(raw) = self.env.get(env) {
            return Some(Val {
                raw,
                origin: env.to_owned(),
            });
        }
        file.map(|(key, raw)| Val {
            raw,
            origin: format!("{}: {key}", self.file_name),
        })
    }

    /// A secret from `ENV`, `ENV_FILE`, the file key or the file key's
    /// `_file` variant.
    fn secret(
        &self,
        env: &str,
        file_value: Option<&String>,
        file_path: Option<&PathBuf>,
        key: &str,
    ) -> Result<Option<Secret<String>>, ConfigError> {
        let env_file = format!("{env}_FILE");
        if let Some(v) = self.env.get(env) {
            return Ok(Some(Secret::new(v)));
        }
        let read = |path: &Path, origin: &str| -> Result<Option<Secret<String>>, ConfigError> {
            std::fs::read_to_string(path)
                .map(|s| Some(Secret::new(s.trim().to_owned())))
                .map_err(|e| ConfigError(format!("{origin}: cannot read {}: {e}", path.display())))
        };
        if let Some(p) = self.env.get(&env_file) {
            return read(Path::new(&p), &env_file);
        }
        if let Some(v) = file_value {
            return Ok(Some(Secret::new(v.clone())));
        }
        if let Some(p) = file_path {
            return read(p, &format!("{}: {key}_file", self.file_name));
        }
        Ok(None)
    }
}

/// Finds and reads the configuration file: `--config`/`GARRISON_CONFIG`,
/// else `garrison.toml` in the data directory if there is one.
fn read_file(
    flags: &Flags,
    env: &dyn Env,
    data_dir: &Path,
) -> Result<(FileConfig, String), ConfigError> {
    let (path, required) = match flags
        .config
        .clone()
        .or_else(|| env.get("GARRISON_CONFIG").map(PathBuf::from))
    {
        Some(p) => (p, true),
        None => (data_dir.join("garrison.toml"), false),
    };
    let name = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map(|c| (c, name.clone()))
            .map_err(|e| ConfigError(format!("{name}: {}", e.to_string().trim()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok((FileConfig::default(), name))
        }
        Err(e) => Err(ConfigError(format!(
            "cannot read the configuration file {name}: {e}"
        ))),
    }
}

impl Config {
    /// Resolves and validates the configuration.
    ///
    /// # Errors
    /// The first bad value, naming its origin.
    pub fn load(flags: &Flags, env: &dyn Env) -> Result<Self, ConfigError> {
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env.get("GARRISON_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./garrison-data"));
        let (file, file_name) = read_file(flags, env, &data_dir)?;
        let r = Resolver { env, file_name };

        let listen = r
            .pick(
                flags.listen.clone().map(|v| ("--listen", v)),
                "GARRISON_LISTEN",
                file.server.listen.clone().map(|v| ("server.listen", v)),
            )
            .map_or(Ok(SocketAddr::from(([127, 0, 0, 1], 8443))), |v| {
                v.parse::<SocketAddr>("an address:port such as 127.0.0.1:8443")
            })?;

        let insecure = match r.pick(
            flags
                .insecure_http
                .then(|| ("--insecure-http", "true".to_owned())),
            "GARRISON_INSECURE_HTTP",
            file.server
                .insecure_http
                .map(|b| ("server.insecure_http", b.to_string())),
        ) {
            Some(v) => v.parse::<bool>("true or false")?,
            None => false,
        };
        let cert = r.pick(
            flags
                .tls_cert
                .clone()
                .map(|p| ("--tls-cert", p.display().to_string())),
            "GARRISON_TLS_CERT",
            file.server
                .tls_cert
                .clone()
                .map(|p| ("server.tls_cert", p.display().to_string())),
        );
        let key = r.pick(
            flags
                .tls_key
                .clone()
                .map(|p| ("--tls-key", p.display().to_string())),
            "GARRISON_TLS_KEY",
            file.server
                .tls_key
                .clone()
                .map(|p| ("server.tls_key", p.display().to_string())),
        );
        let tls = match (insecure, cert, key) {
            (true, Some(c), _) | (true, _, Some(c)) => {
                return Err(ConfigError(format!(
                    "{}: a TLS certificate or key was given together with --insecure-http; choose one",
                    c.origin
                )));
            }
            (true, None, None) => Tls::Off,
            (false, Some(c), Some(k)) => {
                for v in [&c, &k] {
                    if !Path::new(&v.raw).is_file() {
                        return Err(ConfigError(format!(
                            "{}: {} is not a readable file",
                            v.origin, v.raw
                        )));
                    }
                }
                Tls::Files {
                    cert: PathBuf::from(c.raw),
                    key: PathBuf::from(k.raw),
                }
            }
            (false, Some(v), None) | (false, None, Some(v)) => {
                return Err(ConfigError(format!(
                    "{}: give both --tls-cert and --tls-key, or neither for a self-signed certificate",
                    v.origin
                )));
            }
            (false, None, None) => Tls::SelfSigned,
        };

        let trusted_proxies = match r.pick(
            None,
            "GARRISON_TRUSTED_PROXIES",
            file.server
                .trusted_proxies
                .clone()
                .map(|v| ("server.trusted_proxies", v.join(","))),
        ) {
            Some(v) => v
                .raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|e| {
                        ConfigError(format!("{}: `{s}` is not an IP address: {e}", v.origin))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };

        let max_body_bytes = match r.pick(
            None,
            "GARRISON_MAX_BODY_BYTES",
            file.server
                .max_body_bytes
                .map(|n| ("server.max_body_bytes", n.to_string())),
        ) {
            Some(v) => {
                let n: usize = v.parse("a number of bytes")?;
                if !(1024..=1024 * 1024 * 1024).contains(&n) {
                    return Err(ConfigError(format!(
                        "{}: must be between 1024 and 1073741824",
                        v.origin
                    )));
                }
                n
            }
            None => 1024 * 1024,
        };

        let max_upload_bytes = match r.pick(
            None,
            "GARRISON_MAX_UPLOAD_BYTES",
            file.server
                .max_upload_bytes
                .map(|n| ("server.max_upload_bytes", n.to_string())),
        ) {
            Some(v) => {
                let n: u64 = v.parse("a number of bytes")?;
                if n < 1024 {
                    return Err(ConfigError(format!("{}: must be at least 1024", v.origin)));
                }
                n
            }
            None => 1024 * 1024 * 1024,
        };

        let db_url = r.secret(
            "GARRISON_DATABASE_URL",
            file.database.url.as_ref(),
            file.database.url_file.as_ref(),
            "database.url",
        )?;
        let max_connections = match r.pick(
            None,
            "GARRISON_DATABASE_MAX_CONNECTIONS",
            file.database
                .max_connections
                .map(|n| ("database.max_connections", n.to_string())),
        ) {
            Some(v) => {
                let n: u32 = v.parse("a number")?;
                if !(1..=1000).contains(&n) {
                    return Err(ConfigError(format!(
                        "{}: must be between 1 and 1000",
                        v.origin
                    )));
                }
                n
            }
            None => 16,
        };
        let database = match db_url {
            None => Database::Sqlite(data_dir.join("garrison.db")),
            Some(url) => {
                let u = url.expose();
                if u.starts_with("postgres://") || u.starts_with("postgresql://") {
                    Database::Postgres {
                        url,
                        max_connections,
                    }
                } else if let Some(path) = u
                    .strip_prefix("sqlite://")
                    .or_else(|| u.strip_prefix("sqlite:"))
                {
                    Database::Sqlite(PathBuf::from(path))
                } else {
                    return Err(ConfigError(
                        "GARRISON_DATABASE_URL / database.url: expected postgres://user:password@host/db or sqlite:PATH"
                            .to_owned(),
                    ));
                }
            }
        };

        let secret = match r.env.get("GARRISON_SECRET_KEY") {
            Some(v) if v.trim().len() < 32 => {
                return Err(ConfigError(
                    "GARRISON_SECRET_KEY: must be at least 32 characters; generate one with `openssl rand -hex 32`"
                        .to_owned(),
                ));
            }
            Some(v) => SecretSource::Value(Secret::new(v.trim().to_owned())),
            None => SecretSource::File(
                r.env
                    .get("GARRISON_SECRET_KEY_FILE")
                    .map(PathBuf::from)
                    .or_else(|| file.security.secret_key_file.clone())
                    .unwrap_or_else(|| data_dir.join("secret.key")),
            ),
        };

        let minutes =
            |env: &str, key: &str, value: Option<u64>, default: u64, unit: u64, max: u64| match r
                .pick(None, env, value.map(|n| (key, n.to_string())))
            {
                Some(v) => {
                    let n: u64 = v.parse("a whole number")?;
                    if n == 0 || n > max {
                        return Err(ConfigError(format!(
                            "{}: must be between 1 and {max}",
                            v.origin
                        )));
                    }
                    Ok(Duration::from_secs(n * unit))
                }
                None => Ok(Duration::from_secs(default * unit)),
            };
        let session_idle = minutes(
            "GARRISON_SESSION_IDLE_MINUTES",
            "security.session_idle_minutes",
            file.security.session_idle_minutes,
            30,
            60,
            24 * 60,
        )?;
        let session_absolute = minutes(
            "GARRISON_SESSION_ABSOLUTE_HOURS",
            "security.session_absolute_hours",
            file.security.session_absolute_hours,
            12,
            3600,
            24 * 30,
        )?;

        let metrics_token = r.secret(
            "GARRISON_METRICS_TOKEN",
            file.metrics.token.as_ref(),
            file.metrics.token_file.as_ref(),
            "metrics.token",
        )?;

        let log_level = r
            .pick(
                None,
                "GARRISON_LOG",
                file.log.level.clone().map(|v| ("log.level", v)),
            )
            .map_or_else(|| "info".to_owned(), |v| v.raw);
        let log_format = match r.pick(
            None,
            "GARRISON_LOG_FORMAT",
            file.log.format.clone().map(|v| ("log.format", v)),
        ) {
            None => LogFormat::Text,
            Some(v) => match v.raw.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(ConfigError(format!(
                        "{}: `{other}` is not text or json",
                        v.origin
                    )));
                }
            },
        };

        let listeners = syslog_listeners(&file.ingest.listeners, &r.file_name, &tls)?;
        let bytes = |env: &str, key: &str, value: Option<u64>, default: usize| match r.pick(
            None,
            env,
            value.map(|n| (key, n.to_string())),
        ) {
            Some(v) => {
                let n: usize = v.parse("a number of bytes")?;
                if !(1024..=4 * 1024 * 1024 * 1024).contains(&n) {
                    return Err(ConfigError(format!(
                        "{}: must be between 1024 and 4294967296",
                        v.origin
                    )));
                }
                Ok(n)
            }
            None => Ok(default),
        };
        let defaults = garrison_web::IngestLimits::default();
        let ingest_http = garrison_web::IngestLimits {
            max_body_bytes: bytes(
                "GARRISON_INGEST_HTTP_MAX_BODY_BYTES",
                "ingest.http_max_body_bytes",
                file.ingest.http_max_body_bytes,
                defaults.max_body_bytes,
            )?,
            max_decompressed_bytes: bytes(
                "GARRISON_INGEST_HTTP_MAX_DECOMPRESSED_BYTES",
                "ingest.http_max_decompressed_bytes",
                file.ingest.http_max_decompressed_bytes,
                defaults.max_decompressed_bytes,
            )?,
        };

        Ok(Self {
            data_dir,
            listen,
            tls,
            trusted_proxies,
            max_body_bytes,
            max_upload_bytes,
            database,
            secret,
            session_idle,
            session_absolute,
            metrics_token,
            log_level,
            log_format,
            listeners,
            ingest_http,
        })
    }
}

/// Checks the `[[ingest.listeners]]` tables; errors name the table and key
/// (`garrison.toml: ingest.listeners[1].listen: ...`).
fn syslog_listeners(
    tables: &[FileListener],
    file_name: &str,
    tls: &Tls,
) -> Result<Vec<SyslogListener>, ConfigError> {
    let mut out: Vec<SyslogListener> = Vec::with_capacity(tables.len());
    for (i, t) in tables.iter().enumerate() {
        let origin = format!("{file_name}: ingest.listeners[{i}]");
        let err = |key: &str, reason: String| ConfigError(format!("{origin}.{key}: {reason}"));
        let kind: ListenerKind = t.kind.parse().map_err(|e: String| err("kind", e))?;
        if kind == ListenerKind::Tls && matches!(tls, Tls::Off) {
            return Err(err(
                "kind",
                "a tls listener uses the server's certificate, and the server runs without TLS \
                 (insecure_http); give server.tls_cert and server.tls_key, or use tcp"
                    .to_owned(),
            ));
        }
        let slug = t.tenant.trim();
        if slug.is_empty() {
            return Err(err("tenant", "must name a tenant by its slug".to_owned()));
        }
        let mut config = ListenerConfig::new(t.id.trim(), TenantId::new(), kind, t.listen.trim());
        config.format = match &t.format {
            Some(f) => f.parse().map_err(|e: String| err("format", e))?,
            None => garrison_ingest::Format::Auto,
        };
        if let Some(n) = t.max_line {
            config.max_line = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(p) = &t.overlong {
            config.overlong = p.parse().map_err(|e: String| err("overlong", e))?;
        }
        config.allow = t.allow.clone().unwrap_or_default();
        config.validate().map_err(|e| {
            let key = match e.key {
                "addr" => "listen",
                other => other,
            };
            err(key, e.reason)
        })?;
        if let Some(other) = out.iter().find(|o| o.config.id == config.id) {
            return Err(err(
                "id",
                format!("{:?} is also the id of {}", config.id, other.origin),
            ));
        }
        let udp = kind == ListenerKind::Udp;
        if let Some(other) = out.iter().find(|o| {
            (o.config.kind == ListenerKind::Udp) == udp
                && o.config.addr == config.addr
                && !config.addr.ends_with(":0")
        }) {
            return Err(err(
                "listen",
                format!("{} is also the address of {}", config.addr, other.origin),
            ));
        }
        out.push(SyslogListener {
            origin,
            tenant: slug.to_owned(),
            config,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct MapEnv(HashMap<&'static str, String>);

    impl Env for MapEnv {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn env(pairs: &[(&'static str, &str)]) -> MapEnv {
        MapEnv(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    fn dir_with(toml: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::write(d.path().join("garrison.toml"), toml).expect("write");
        d
    }

    fn flags(dir: &Path) -> Flags {
        Flags {
            data_dir: Some(dir.to_path_buf()),
            ..Flags::default()
        }
    }

    #[test]
    fn defaults() {
        let d = tempfile::tempdir().expect("tmp");
        let c = Config::load(&flags(d.path()), &env(&[])).expect("loads");
        assert_eq!(c.listen, "127.0.0.1:8443".parse().expect("addr"));
        assert!(matches!(c.tls, Tls::SelfSigned));
        assert!(matches!(c.database, Database::Sqlite(ref p) if p.ends_with("garrison.db")));
        assert_eq!(c.session_idle, Duration::from_secs(1800));
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let d = dir_with("[server]\nlisten = \"127.0.0.1:1000\"\n");
        let c = Config::load(&flags(d.path()), &env(&[])).expect("file");
        assert_eq!(c.listen.port(), 1000);
        let c = Config::load(
            &flags(d.path()),
            &env(&[("GARRISON_LISTEN", "127.0.0.1:2000")]),
        )
        .expect("env");
        assert_eq!(c.listen.port(), 2000);
        let mut f = flags(d.path());
        f.listen = Some("127.0.0.1:3000".to_owned());
        let c = Config::load(&f, &env(&[("GARRISON_LISTEN", "127.0.0.1:2000")])).expect("flag");
        assert_eq!(c.listen.port(), 3000);
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        let d = dir_with("[server]\nlisten = \"nowhere\"\n");
        let err = Config::load(&flags(d.path()), &env(&[])).expect_err("bad");
        assert!(err.0.contains("garrison.toml: server.listen"), "{}", err.0);
        assert!(err.0.contains("nowhere"), "{}", err.0);

        let d = dir_with("[server]\nlisen = \"127.0.0.1:1\"\n");
        let err = Config::load(&flags(d.path()), &env(&[])).expect_err("typo");
        assert!(err.0.contains("lisen"), "{}", err.0);

        let d = tempfile::tempdir().expect("tmp");
        let err = Config::load(
            &flags(d.path()),
            &env(&[("GARRISON_SESSION_IDLE_MINUTES", "0")]),
        )
        .expect_err("zero");
        assert!(
            err.0.starts_with("GARRISON_SESSION_IDLE_MINUTES"),
            "{}",
            err.0
        );
        let err = Config::load(
            &flags(d.path()),
            &env(&[("GARRISON_DATABASE_URL", "mysql://x")]),
        )
        .expect_err("db");
        assert!(err.0.contains("postgres://"), "{}", err.0);
        let err = Config::load(&flags(d.path()), &env(&[("GARRISON_SECRET_KEY", "short")]))
            .expect_err("key");
        assert!(err.0.contains("32"), "{}", err.0);
    }

    #[test]
    fn secrets_come_from_files_and_stay_hidden() {
        let d = tempfile::tempdir().expect("tmp");
        let secret_file = d.path().join("db-url");
        std::fs::write(&secret_file, "postgres://u:pw@127.0.0.1/g\n").expect("write");
        let c = Config::load(
            &flags(d.path()),
            &env(&[(
                "GARRISON_DATABASE_URL_FILE",
                secret_file.to_str().expect("utf8"),
            )]),
        )
        .expect("loads");
        match &c.database {
            Database::Postgres { url, .. } => {
                assert_eq!(url.expose(), "postgres://u:pw@127.0.0.1/g")
            }
            other => panic!("expected postgres, got {other:?}"),
        }
        assert!(
            !format!("{c:?}").contains("pw@"),
            "the Debug output redacts the URL"
        );
        let err = Config::load(
            &flags(d.path()),
            &env(&[("GARRISON_METRICS_TOKEN_FILE", "/nonexistent/x")]),
        )
        .expect_err("missing file");
        assert!(
            err.0.starts_with("GARRISON_METRICS_TOKEN_FILE"),
            "{}",
            err.0
        );
    }

    #[test]
    fn the_documented_example_is_valid() {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::write(
            d.path().join("garrison.toml"),
            include_str!("../../../docs/garrison.example.toml"),
        )
        .expect("write");
        let c = Config::load(&flags(d.path()), &env(&[])).expect("the example loads");
        assert_eq!(c.listen.port(), 8443);
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn syslog_listeners_are_checked_with_their_key() {
        let ok = "[[ingest.listeners]]\nid = \"a\"\ntenant = \"acme\"\nkind = \"udp\"\nlisten = \"127.0.0.1:5514\"\n\
                  [[ingest.listeners]]\nid = \"b\"\ntenant = \"acme\"\nkind = \"tcp\"\nlisten = \"127.0.0.1:5514\"\n\
                  format = \"cef\"\nmax_line = 8192\noverlong = \"refuse\"\nallow = [\"10.0.0.0/8\", \"127.0.0.1\"]\n";
        let d = dir_with(ok);
        let c = Config::load(&flags(d.path()), &env(&[])).expect("loads");
        assert_eq!(c.listeners.len(), 2);
        assert_eq!(c.listeners[0].config.format, garrison_ingest::Format::Auto);
        assert_eq!(c.listeners[0].config.max_line, 65536);
        assert_eq!(c.listeners[1].config.kind, ListenerKind::Tcp);
        assert_eq!(c.listeners[1].tenant, "acme");

        for (toml, key) in [
            (
                ok.replace("127.0.0.1:5514\"\nformat", "nowhere\"\nformat"),
                "ingest.listeners[1].listen: ",
            ),
            (
                ok.replace("\"udp\"", "\"sctp\""),
                "ingest.listeners[0].kind: ",
            ),
            (ok.replace("8192", "10"), "ingest.listeners[1].max_line: "),
            (
                ok.replace("\"refuse\"", "\"explode\""),
                "ingest.listeners[1].overlong: ",
            ),
            (
                ok.replace("\"cef\"", "\"xml\""),
                "ingest.listeners[1].format: ",
            ),
            (
                ok.replace("\"10.0.0.0/8\"", "\"10.0.0.0/99\""),
                "ingest.listeners[1].allow: ",
            ),
            (ok.replace("\"b\"", "\"a\""), "ingest.listeners[1].id: "),
            (ok.replace("\"b\"", "\"a b\""), "ingest.listeners[1].id: "),
            (
                ok.replace("\"tcp\"", "\"udp\""),
                "ingest.listeners[1].listen: ",
            ),
            (
                ok.replace(
                    "tenant = \"acme\"\nkind = \"udp\"",
                    "tenant = \" \"\nkind = \"udp\"",
                ),
                "ingest.listeners[0].tenant: ",
            ),
        ] {
            let d = dir_with(&toml);
            let err = Config::load(&flags(d.path()), &env(&[])).expect_err(key);
            assert!(
                err.0.contains(&format!("garrison.toml: {key}")),
                "{key}: {}",
                err.0
            );
        }
        let d = dir_with(&ok.replace("\"udp\"", "\"tls\""));
        let mut f = flags(d.path());
        f.insecure_http = true;
        let err = Config::load(&f, &env(&[])).expect_err("tls without a certificate");
        assert!(err.0.contains("ingest.listeners[0].kind: "), "{}", err.0);
    }

    #[test]
    fn tls_choices_are_consistent() {
        let d = tempfile::tempdir().expect("tmp");
        let mut f = flags(d.path());
        f.insecure_http = true;
        assert!(matches!(
            Config::load(&f, &env(&[])).expect("ok").tls,
            Tls::Off
        ));
        f.tls_cert = Some(d.path().join("c.pem"));
        assert!(
            Config::load(&f, &env(&[])).is_err(),
            "both insecure and a cert"
        );
        f.insecure_http = false;
        let err = Config::load(&f, &env(&[])).expect_err("cert without key");
        assert!(err.0.contains("--tls-key"), "{}", err.0);
    }
}
