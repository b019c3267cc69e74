//! Running the real `garrison` binary on a temporary data directory.

#![allow(dead_code, reason = "each test file uses part of this module")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A data directory (and, on the PostgreSQL pass, a database) for the binary.
pub struct Garrison {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl Garrison {
    pub async fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            database_url: garrison_testkit::binary_database_url().await,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_garrison"));
        cmd.arg("--data-dir").arg(self.data_dir());
        cmd.env_remove("GARRISON_DATABASE_URL")
            .env_remove("GARRISON_CONFIG")
            .env_remove("GARRISON_LISTEN");
        cmd.env("GARRISON_LOG", "warn");
        if let Some(url) = &self.database_url {
            cmd.env("GARRISON_DATABASE_URL", url);
        }
        cmd
    }

    /// Runs a command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run garrison")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "garrison {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Starts a long-running command (`serve`, `demo`) and waits until it
    /// prints the address it listens on.
    pub fn start(&self, args: &[&str]) -> Server {
        let mut child = self
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn garrison");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let found = line
                        .split_whitespace()
                        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
                        .filter(|_| line.contains("listening on"))
                        .map(str::to_owned);
                    lines.push(line);
                    if let Some(url) = found {
                        return Server { child, url, lines };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "garrison did not report its address; it printed:\n{}",
                        lines.join("\n")
                    );
                }
            }
        }
    }
}

/// A running server, killed on drop.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// What it printed up to the listening line.
    pub lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The value printed after `label` (e.g. "Password:").
    pub fn printed(&self, label: &str) -> Option<String> {
        self.lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
    }
}

/// Posts the login form like a browser: fetch it (for the CSRF cookie and
/// field), then submit.
pub async fn login(
    client: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = client
        .get(format!("{url}/login"))
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("body");
    let csrf = garrison_testkit::html::input_value(&page, "csrf").expect("csrf field");
    client
        .post(format!("{url}/login"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("POST /login")
}

/// A port that was free a moment ago.
pub fn free_port(udp: bool) -> u16 {
    if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free udp port")
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free tcp port")
            .port()
    }
}

/// Sends `message` with util-linux `logger` (RFC 5424) over `transport`
/// (`--tcp` or `--udp`) to 127.0.0.1:`port`.
pub fn logger(transport: &str, port: u16, message: &str) {
    let out = Command::new("logger")
        .args([
            transport,
            "--server",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--rfc5424",
            "-t",
            "garrison-test",
            message,
        ])
        .output()
        .expect("run logger (util-linux)");
    assert!(
        out.status.success(),
        "logger {transport}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The first portal login in Chromium: the one-time password, then a new
/// password; waits for the overview.
pub async fn first_login(
    b: &garrison_testkit::webdriver::Browser,
    url: &str,
    email: &str,
    one_time: &str,
    new_password: &str,
) {
    b.goto(&format!("{url}/login")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", one_time).await;
    b.click("#sign-in").await;
    b.wait_url("/login/password").await;
    b.type_into("#new_password", new_password).await;
    b.type_into("#confirm", new_password).await;
    b.click("#save-password").await;
    b.wait_url("/").await;
}
