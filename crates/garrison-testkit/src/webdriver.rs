//! A small W3C WebDriver client over HTTP, enough to drive Chromium
//! through chromedriver in the browser tests: open pages, fill and submit
//! forms, read text, press keys.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver, stopped on drop.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    /// Stops chromedriver and every browser it started (they share its
    /// process group), also when a test panicked before quitting.
    fn drop(&mut self) {
        // kill(2) on the group itself: `/usr/bin/kill -KILL -PID` from
        // procps reads the group as an option on some versions and
        // signals every process of the user.
        if let Some(group) = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Driver {
    /// Starts chromedriver (`CHROMEDRIVER`, default `chromedriver` on the
    /// PATH) and waits until it answers.
    ///
    /// # Panics
    /// When chromedriver cannot be started; the message says how to install it.
    pub async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let port = free_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin}: {e}. Install Debian's chromium and chromium-driver (scripts/test does)")
            });
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("http client"),
        };
        let ready = crate::wait_for(Duration::from_secs(20), || async {
            let r = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
                .ok()?;
            let v: Value = r.json().await.ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        })
        .await;
        assert!(ready.is_some(), "chromedriver did not become ready");
        driver
    }

    /// Opens headless Chromium with a fresh profile.
    ///
    /// # Panics
    /// When the session cannot be created.
    pub async fn session(&self) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "acceptInsecureCerts": true,
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--disable-dev-shm-usage", "--window-size=1280,900",
                        format!("--user-data-dir={}", profile.path().display()),
                    ]
                }
            }}
        });
        let v = self
            .call(reqwest::Method::POST, "/session", Some(caps))
            .await;
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        Browser {
            base: format!("{}/session/{id}", self.base),
            http: self.http.clone(),
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("webdriver {url}: {e}"));
    let v: Value = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("webdriver {url}: {e}"));
    if v["value"].get("error").is_some() {
        panic!("webdriver {url}: {}", v["value"]);
    }
    v["value"].clone()
}

/// One browser session.
#[derive(Debug)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

/// A page element.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching a CSS selector, waiting up to 10 s.
    ///
    /// # Panics
    /// When none appears.
    pub async fn find(&self, css: &str) -> Element {
        let found = crate::wait_for(Duration::from_secs(10), || async {
            let resp = self
                .http
                .post(format!("{}/element", self.base))
                .json(&json!({ "using": "css selector", "value": css }))
                .send()
                .await
                .ok()?;
            let v: Value = resp.json().await.ok()?;
            v["value"][ELEMENT_KEY]
                .as_str()
                .map(|s| Element(s.to_owned()))
        })
        .await;
        match found {
            Some(e) => e,
            None => panic!(
                "no element {css} on {}:\n{}",
                self.url().await,
                self.source().await
            ),
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", el.0),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", el.0),
            Some(json!({})),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", el.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// The `id` attribute of the focused element.
    pub async fn active_id(&self) -> String {
        let v = self
            .call(reqwest::Method::GET, "/element/active", None)
            .await;
        let Some(el) = v[ELEMENT_KEY].as_str() else {
            return String::new();
        };
        self.call(
            reqwest::Method::GET,
            &format!("/element/{el}/attribute/id"),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Presses a key (a WebDriver key code such as "\u{E004}" for Tab).
    pub async fn press(&self, key: &str) {
        let actions = json!({ "actions": [{
            "type": "key", "id": "keyboard",
            "actions": [{ "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }]
        }]});
        self.call(reqwest::Method::POST, "/actions", Some(actions))
            .await;
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Runs a script and returns its value (used only to measure layout).
    pub async fn eval(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Waits until the URL ends with `suffix`.
    ///
    /// # Panics
    /// When it does not within 10 s.
    pub async fn wait_url(&self, suffix: &str) {
        let ok = crate::wait_for(Duration::from_secs(10), || async {
            self.url().await.ends_with(suffix).then_some(())
        })
        .await;
        if ok.is_none() {
            panic!(
                "expected URL ending {suffix}, at {}:\n{}",
                self.url().await,
                self.source().await
            );
        }
    }

    /// Waits until the element's text contains `needle` (pages that update
    /// themselves, like an import's progress).
    ///
    /// # Panics
    /// When it does not within `secs` seconds.
    pub async fn wait_text(&self, css: &str, needle: &str, secs: u64) -> String {
        // Read through a script, tolerating the moments when the page is
        // being replaced (an element found before a reload goes stale).
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent : null;",
            Value::String(css.to_owned())
        );
        let found = crate::wait_for(Duration::from_secs(secs), || async {
            let resp = self
                .http
                .post(format!("{}/execute/sync", self.base))
                .json(&json!({ "script": script, "args": [] }))
                .send()
                .await
                .ok()?;
            let v: Value = resp.json().await.ok()?;
            let text = v["value"].as_str()?.to_owned();
            text.contains(needle).then_some(text)
        })
        .await;
        match found {
            Some(t) => t,
            None => panic!(
                "{css} never showed {needle:?} on {}:\n{}",
                self.url().await,
                self.source().await
            ),
        }
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
