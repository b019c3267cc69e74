//! Test support for Garrison.
//!
//! [`TestApp`] builds the real application and router on a fresh database
//! for each test: a temporary SQLite file, or (with
//! `GARRISON_TEST_BACKEND=postgres`) a new database on the server named by
//! `GARRISON_TEST_POSTGRES_URL`. Requests go through the whole router
//! in-process, with the client address set per client, so throttling and
//! tenancy are tested exactly as served.
#![forbid(unsafe_code)]

pub mod html;
pub mod totp;
pub mod webdriver;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use garrison_app::admin::CreateUser;
use garrison_app::{App, AppSettings, Keys};
use garrison_core::model::{Tenant, User};
use garrison_core::time::ManualClock;
use garrison_core::{Clock, Principal, Role, TenantId, Timestamp};
use garrison_store::Store;
use garrison_web::{WebConfig, WebState};
use tower::ServiceExt;

/// Which database the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

impl TestBackend {
    /// From `GARRISON_TEST_BACKEND` (`sqlite`, the default, or `postgres`).
    ///
    /// # Panics
    /// On any other value.
    #[must_use]
    pub fn from_env() -> Self {
        match std::env::var("GARRISON_TEST_BACKEND").as_deref() {
            Err(_) | Ok("" | "sqlite") => Self::Sqlite,
            Ok("postgres") => Self::Postgres,
            Ok(other) => panic!("GARRISON_TEST_BACKEND={other}: expected sqlite or postgres"),
        }
    }
}

/// The PostgreSQL server for tests.
///
/// # Panics
/// When `GARRISON_TEST_POSTGRES_URL` is not set.
#[must_use]
pub fn postgres_admin_url() -> String {
    std::env::var("GARRISON_TEST_POSTGRES_URL").expect(
        "GARRISON_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    )
}

/// A fresh, migrated store on the configured backend. The returned guard
/// keeps a temporary directory alive.
///
/// # Panics
/// When the database cannot be created.
pub async fn fresh_store(keys: &Keys) -> (Arc<dyn Store>, Box<dyn std::any::Any + Send + Sync>) {
    match TestBackend::from_env() {
        TestBackend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let store =
                garrison_store_sqlite::open(&dir.path().join("garrison.db"), keys.chain().clone())
                    .await
                    .expect("open SQLite");
            garrison_store_sqlite::migrate(&store)
                .await
                .expect("migrate");
            (Arc::new(store), Box::new(dir))
        }
        TestBackend::Postgres => {
            let url = garrison_store_postgres::create_scratch_database(&postgres_admin_url())
                .await
                .expect("scratch database");
            let store = garrison_store_postgres::connect(&url, keys.chain().clone(), 8)
                .await
                .expect("connect");
            garrison_store_postgres::migrate(&store)
                .await
                .expect("migrate");
            (Arc::new(store), Box::new(()))
        }
    }
}

/// A URL for the real binary's `GARRISON_DATABASE_URL`: a scratch
/// PostgreSQL database, or `None` to let it use SQLite in its data dir.
pub async fn binary_database_url() -> Option<String> {
    match TestBackend::from_env() {
        TestBackend::Sqlite => None,
        TestBackend::Postgres => Some(
            garrison_store_postgres::create_scratch_database(&postgres_admin_url())
                .await
                .expect("scratch database"),
        ),
    }
}

/// The password test users choose at first login.
pub const PASSWORD: &str = "violet quietly crosses the harbour";

/// The application and its router on a fresh database, with a clock the
/// test moves by hand.
pub struct TestApp {
    pub app: Arc<App>,
    /// The store behind the app, for checking what use cases wrote.
    pub store: Arc<dyn Store>,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub keys: Keys,
    web: WebConfig,
    _uploads: tempfile::TempDir,
    _guard: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp").finish_non_exhaustive()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(AppSettings::default()).await
    }

    pub async fn with_settings(settings: AppSettings) -> Self {
        let keys = Keys::from_master(b"test-master-secret-of-at-least-32-bytes").expect("keys");
        let (store, guard) = fresh_store(&keys).await;
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock");
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(
            i64::try_from(start.as_millis()).expect("fits"),
        )));
        let app = Arc::new(App::new(
            store.clone(),
            clock.clone(),
            keys.clone(),
            settings,
        ));
        // Each app has its own upload directory, so a test can check that
        // nothing was left behind.
        let uploads = tempfile::tempdir().expect("upload dir");
        let web = WebConfig {
            upload_dir: uploads.path().join("uploads"),
            ..WebConfig::default()
        };
        let router = garrison_web::router(WebState::new(app.clone(), web.clone()));
        Self {
            app,
            store,
            router,
            clock,
            keys,
            web,
            _uploads: uploads,
            _guard: guard,
        }
    }

    /// The web configuration the router was built with.
    #[must_use]
    pub fn web_config(&self) -> &WebConfig {
        &self.web
    }

    /// Now on the test clock, in Unix seconds.
    #[must_use]
    pub fn now_secs(&self) -> i64 {
        self.clock.now().as_secs()
    }

    /// The operator principal (all rights), as the CLI uses.
    #[must_use]
    pub fn operator(&self) -> Principal {
        Principal::system("test")
    }

    /// A client from the default test address.
    #[must_use]
    pub fn client(&self) -> TestClient {
        self.client_from("203.0.113.10")
    }

    /// A client from another address.
    ///
    /// # Panics
    /// When `ip` is not an address.
    #[must_use]
    pub fn client_from(&self, ip: &str) -> TestClient {
        TestClient {
            router: self.router.clone(),
            ip: ip.parse().expect("ip"),
            cookies: Arc::new(Mutex::new(BTreeMap::new())),
            bearer: None,
            extra_headers: Vec::new(),
        }
    }

    /// Imports an asset list or scan report given as text into the
    /// tenant, as the operator, through the real importers.
    ///
    /// # Panics
    /// When the import fails or rejects anything.
    pub async fn import_text(
        &self,
        tenant: TenantId,
        name: &str,
        kind: garrison_core::asset::ImportKind,
        text: &str,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write the file");
        let import = self
            .app
            .run_import(
                &self.operator(),
                garrison_app::inventory::ImportFile {
                    tenant,
                    path,
                    file_name: name.to_owned(),
                    format: None,
                    zone: None,
                    kind,
                    delete_after: false,
                },
                Arc::new(garrison_app::inventory::Progress::default()),
            )
            .await
            .expect("import");
        assert_eq!(
            import.status,
            garrison_core::asset::ImportStatus::Completed,
            "{import:?}"
        );
    }

    pub async fn tenant(&self, slug: &str) -> Tenant {
        self.app
            .create_tenant(&self.operator(), slug, &format!("{slug} Ltd"))
            .await
            .expect("create tenant")
    }

    /// Creates a user; returns it and its one-time password.
    pub async fn user(&self, email: &str, role: Role, tenant: Option<TenantId>) -> (User, String) {
        let created = self
            .app
            .create_user(
                &self.operator(),
                CreateUser {
                    email: email.to_owned(),
                    display_name: None,
                    role,
                    tenant,
                },
            )
            .await
            .expect("create user");
        (created.user, created.one_time_password.expose().clone())
    }

    /// An API token for a user.
    pub async fn token_for(&self, email: &str) -> String {
        self.app
            .create_token_for(&self.operator(), email, "test", None)
            .await
            .expect("token")
            .secret
            .expose()
            .clone()
    }

    /// Creates a user and walks the portal login to a complete session:
    /// password, new password, MFA enrolment where required.
    pub async fn signed_in(&self, email: &str, role: Role, tenant: Option<TenantId>) -> SignedIn {
        let (user, one_time) = self.user(email, role, tenant).await;
        self.first_login(self.client(), &user, &one_time).await
    }

    /// Walks the first login of `user` with its one-time password.
    ///
    /// # Panics
    /// When a step does not go as a first login should.
    pub async fn first_login(&self, client: TestClient, user: &User, one_time: &str) -> SignedIn {
        let r = client.login(&user.email, one_time).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login: {}", r.body);
        assert_eq!(r.location(), Some("/login/password"));
        let page = client.get("/login/password").await;
        let csrf = page.hidden("csrf");
        let r = client
            .post_form(
                "/login/password",
                &[
                    ("new_password", PASSWORD),
                    ("confirm", PASSWORD),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "new password: {}", r.body);
        let mut totp = None;
        if r.location() == Some("/login/enrol") {
            let page = client.get("/login/enrol").await;
            let secret = page.text_of("totp-secret");
            let code = totp::code(&secret, self.clock.now().as_secs());
            let r = client
                .post_form(
                    "/login/enrol",
                    &[("code", &code), ("csrf", &page.hidden("csrf"))],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "enrol: {}", r.body);
            assert!(r.body.contains("recovery-codes"), "{}", r.body);
            // A TOTP step is accepted once; later logins need a later one.
            self.clock.advance(Duration::from_secs(30));
            totp = Some(secret);
        } else {
            assert_eq!(r.location(), Some("/"));
        }
        let home = client.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "home: {}", home.body);
        SignedIn {
            csrf: home.hidden("csrf"),
            client,
            user: user.clone(),
            totp,
        }
    }
}

/// A browser-like client with a complete portal session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub client: TestClient,
    pub user: User,
    pub csrf: String,
    /// The TOTP secret, when the user enrolled.
    pub totp: Option<String>,
}

/// A client of the in-process router: keeps cookies like a browser, sends
/// a fixed source address, optionally a bearer token.
#[derive(Debug, Clone)]
pub struct TestClient {
    router: Router,
    ip: IpAddr,
    cookies: Arc<Mutex<BTreeMap<String, String>>>,
    bearer: Option<String>,
    extra_headers: Vec<(String, String)>,
}

/// A response, with its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// # Panics
    /// When the body is not JSON.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    #[must_use]
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden input `name`.
    ///
    /// # Panics
    /// When there is none.
    #[must_use]
    pub fn hidden(&self, name: &str) -> String {
        html::input_value(&self.body, name)
            .unwrap_or_else(|| panic!("no input {name} in {}", self.body))
    }

    /// The text of the element with id `id`.
    ///
    /// # Panics
    /// When there is none.
    #[must_use]
    pub fn text_of(&self, id: &str) -> String {
        html::text_of_id(&self.body, id)
            .unwrap_or_else(|| panic!("no element #{id} in {}", self.body))
    }
}

impl TestClient {
    /// The same client with a bearer token.
    #[must_use]
    pub fn with_bearer(&self, token: &str) -> Self {
        Self {
            bearer: Some(token.to_owned()),
            cookies: Arc::new(Mutex::new(BTreeMap::new())),
            ..self.clone()
        }
    }

    /// The same client with an extra header on every request.
    #[must_use]
    pub fn with_header(&self, name: &str, value: &str) -> Self {
        let mut c = self.clone();
        c.extra_headers.push((name.to_owned(), value.to_owned()));
        c
    }

    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("lock").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("lock")
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn clear_cookies(&self) {
        self.cookies.lock().expect("lock").clear();
    }

    /// Sends a request through the router.
    ///
    /// # Panics
    /// When the router fails (it never should).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let resp = self.dispatch(method, path, body).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
            .await
            .expect("body");
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Sends a `GET` and returns as soon as the response starts, its body
    /// to be read as it comes (a server-sent event stream never ends).
    pub async fn open(&self, path: &str) -> TestStream {
        let resp = self.dispatch(Method::GET, path, None).await;
        TestStream {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.into_body(),
            text: String::new(),
            ended: false,
        }
    }

    /// The request through the router, cookies kept from its response.
    async fn dispatch(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> axum::response::Response {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "garrison.test");
        let cookie_header = {
            let jar = self.cookies.lock().expect("lock");
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        if !cookie_header.is_empty() {
            req = req.header(header::COOKIE, cookie_header);
        }
        if let Some(token) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (k, v) in &self.extra_headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(self.ip, 40000)));
        let resp = self.router.clone().oneshot(req).await.expect("router");
        for value in resp.headers().get_all(header::SET_COOKIE) {
            let Ok(v) = value.to_str() else { continue };
            let first = v.split(';').next().unwrap_or_default();
            if let Some((name, val)) = first.split_once('=') {
                let mut jar = self.cookies.lock().expect("lock");
                if val.is_empty() || v.contains("Max-Age=0") {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), val.to_owned());
                }
            }
        }
        resp
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Method::POST,
            path,
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
        )
        .await
    }

    /// A JSON API call.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        json: Option<serde_json::Value>,
    ) -> TestResponse {
        let body = json.map(|j| ("application/json", j.to_string().into_bytes()));
        self.send(method, path, body).await
    }

    /// Fetches the login form and posts credentials.
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        let page = self.get("/login").await;
        let csrf = page.hidden("csrf");
        self.post_form(
            "/login",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }
}

/// A response whose body is read as it arrives.
#[derive(Debug)]
pub struct TestStream {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Body,
    /// Everything read so far.
    pub text: String,
    /// Whether the body has ended.
    pub ended: bool,
}

impl TestStream {
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Reads until what was read contains `needle`, the body ends, or
    /// `deadline` passes (a guard against a test hanging, not a timing
    /// check); returns whether `needle` was seen. Everything read is in
    /// [`TestStream::text`].
    ///
    /// # Panics
    /// When the body fails.
    pub async fn read_until(&mut self, needle: &str, deadline: Duration) -> bool {
        use axum::body::HttpBody as _;
        let end = tokio::time::Instant::now() + deadline;
        while !self.text.contains(needle) {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut self.body).poll_frame(cx));
            match tokio::time::timeout_at(end, frame).await {
                Err(_) => return false,
                Ok(None) => {
                    self.ended = true;
                    return false;
                }
                Ok(Some(frame)) => {
                    if let Ok(data) = frame.expect("body").into_data() {
                        self.text.push_str(&String::from_utf8_lossy(&data));
                    }
                }
            }
        }
        true
    }
}

/// Percent-encodes a form value.
#[must_use]
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `check` until it returns `Some` or `deadline` passes.
pub async fn wait_for<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An HTTPS client for the real binary (self-signed certificate accepted),
/// optionally sending from a given local address.
///
/// # Panics
/// When the client cannot be built.
#[must_use]
pub fn https_client(local: Option<IpAddr>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .local_address(local)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("https client")
}
