//! `FakeSaas`: the hosted service on `127.0.0.1:<OS port>`, inside the test process, with
//! programmable answers and a log of every request (gzip bodies decoded).

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use spec_kitty::auth::session::Team;

use crate::seed::{team, unique_token};

/// A loopback URL on which nothing listens (connections are refused).
///
/// ```
/// let url = kitty_testkit::refusing_url();
/// assert!(url.starts_with("http://127.0.0.1:"));
/// assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err());
/// ```
pub fn refusing_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// One answer to a device-code poll of `POST /oauth/token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicePoll {
    /// `400 {"error": "authorization_pending"}`.
    Pending,
    /// `400 {"error": "slow_down"}`.
    SlowDown,
    /// `400 {"error": "expired_token"}`.
    Expired,
    /// `400 {"error": "access_denied"}`.
    Denied,
    /// `400` with this OAuth error code, one the device flow does not expect.
    ///
    /// ```
    /// use kitty_testkit::DevicePoll;
    /// assert_ne!(DevicePoll::OtherError("invalid_client"), DevicePoll::Denied);
    /// ```
    OtherError(&'static str),
    /// `200` with fresh tokens.
    Grant,
}

/// The answer to `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeAnswer {
    /// `200` with these teams.
    Teams(Vec<Team>),
    /// This HTTP status with an error body.
    Status(u16),
}

/// One programmed answer to `POST /api/v1/events/batch/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAnswer {
    /// This HTTP status (401, 403, 503...) with an error body.
    Status(u16),
    /// `200`, giving the events these statuses in order (the last one repeats). `"<null>"`
    /// answers `"status": null` and `"<missing>"` leaves the key out.
    Statuses(Vec<String>),
    /// `200` with exactly this JSON body (`{}`, results for other ids, ...).
    Body(Value),
}

/// What the whole service does, over the programmed answers ([`FakeSaas::go_down`],
/// [`FakeSaas::refuse_every_batch`], [`FakeSaas::come_back`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Availability {
    /// Answering: programmed answers first, then the defaults.
    #[default]
    Up,
    /// Every request gets `503` until told otherwise (each is recorded all the same); programmed
    /// answers wait.
    Down,
    /// Up, but every batch is answered `200` with each of its events `rejected` (with
    /// [`FakeSaas::set_rejection_reason`]'s reason, or one of its own); programmed batch answers
    /// wait.
    RefusingBatches,
}

/// The answer to a refresh-token `POST /oauth/token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshAnswer {
    /// `200` with a new access token.
    Grant,
    /// This status with `{"error": "invalid_grant"}`.
    Status(u16),
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The body, gunzipped when `Content-Encoding: gzip`.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl RecordedRequest {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as an `application/x-www-form-urlencoded` map.
    pub fn form(&self) -> BTreeMap<String, String> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (url_decode(k), url_decode(v))
            })
            .collect()
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug)]
struct State {
    requests: Vec<RecordedRequest>,
    device_polls: VecDeque<DevicePoll>,
    device_interval: u64,
    me: MeAnswer,
    refresh: RefreshAnswer,
    refresh_delay: Duration,
    revoke_status: u16,
    batches: VecDeque<BatchAnswer>,
    default_event_status: String,
    availability: Availability,
    batch_delay: Duration,
    rejection_reason: Option<String>,
    grant_fields: serde_json::Map<String, Value>,
}

/// The fake hosted service. Dropping it stops the server.
///
/// ```
/// use kitty_testkit::{FakeSaas, MeAnswer, team};
/// let saas = FakeSaas::start();
/// saas.set_me(MeAnswer::Teams(vec![team("team-private", true)]));
/// let resp = std::net::TcpStream::connect(saas.addr());
/// assert!(resp.is_ok());
/// assert_eq!(saas.count("/api/v1/me"), 0);
/// ```
pub struct FakeSaas {
    url: String,
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    issued: crate::secrets::Secrets,
    server: Option<crate::http::Server>,
    contract_log: Option<PathBuf>,
}

impl std::fmt::Debug for FakeSaas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSaas")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl FakeSaas {
    /// Start on `127.0.0.1` with an OS-assigned port. Defaults: device polls grant at once,
    /// `/me` returns a shared and a private team, refresh grants, batches succeed.
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            requests: Vec::new(),
            device_polls: VecDeque::new(),
            device_interval: 0,
            me: MeAnswer::Teams(vec![team("team-shared", false), team("team-private", true)]),
            refresh: RefreshAnswer::Grant,
            refresh_delay: Duration::ZERO,
            revoke_status: 200,
            batches: VecDeque::new(),
            default_event_status: "success".into(),
            batch_delay: Duration::ZERO,
            rejection_reason: None,
            grant_fields: serde_json::Map::new(),
            availability: Availability::Up,
        }));
        let issued = crate::secrets::Secrets::default();
        let server = {
            let (state, issued) = (state.clone(), issued.clone());
            crate::http::Server::start(move |req| handle(req, &state, &issued))
                .expect("bind FakeSaas on 127.0.0.1")
        };
        let addr = server.addr;
        Self {
            url: format!("http://{addr}"),
            addr,
            state,
            issued,
            server: Some(server),
            contract_log: crate::process_env::non_empty_var(crate::CONTRACT_LOG_VAR)
                .map(PathBuf::from),
        }
    }

    /// When this fake is dropped, log every envelope it received to a new file in `dir` (for
    /// `scripts/validate-events`). Every FakeSaas does this when the test process has
    /// `KITTY_TESTKIT_CONTRACT_LOG` set; this sets the directory for one fake.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut saas = kitty_testkit::FakeSaas::start();
    /// saas.set_contract_log(dir.path());
    /// drop(saas); // nothing received: nothing logged
    /// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    /// ```
    pub fn set_contract_log(&mut self, dir: impl Into<PathBuf>) {
        self.contract_log = Some(dir.into());
    }

    /// Log nothing for the contract check, even with `KITTY_TESTKIT_CONTRACT_LOG` set: for a test
    /// that sends this fake corrupted envelopes on purpose (a test of the contract check itself).
    ///
    /// ```
    /// let mut saas = kitty_testkit::FakeSaas::start();
    /// saas.skip_contract_log();
    /// ```
    pub fn skip_contract_log(&mut self) {
        self.contract_log = None;
    }

    /// The base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The socket address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answer the next device-code polls in this order (then grant).
    pub fn set_device_polls(&self, polls: impl IntoIterator<Item = DevicePoll>) {
        self.state().device_polls = polls.into_iter().collect();
    }

    /// The `interval` (seconds) the device authorization advertises (default 0).
    pub fn set_device_interval(&self, secs: u64) {
        self.state().device_interval = secs;
    }

    /// How `/api/v1/me` answers.
    pub fn set_me(&self, answer: MeAnswer) {
        self.state().me = answer;
    }

    /// How refresh-token grants answer, and how long they take.
    pub fn set_refresh(&self, answer: RefreshAnswer, delay: Duration) {
        let mut s = self.state();
        s.refresh = answer;
        s.refresh_delay = delay;
    }

    /// The status `/oauth/revoke` answers with (default 200).
    pub fn set_revoke_status(&self, status: u16) {
        self.state().revoke_status = status;
    }

    /// Stay down until [`come_back`](Self::come_back): every request (batches, `/me`, tokens)
    /// gets `503`. Sync retries a batch that meets a 5xx: a final sync sends each batch
    /// [`FINAL_SYNC_ATTEMPTS`](spec_kitty::sync::attempts::FINAL_SYNC_ATTEMPTS) times, `sync now`
    /// [`SYNC_NOW_ATTEMPTS`](spec_kitty::sync::attempts::SYNC_NOW_ATTEMPTS) times, and the events
    /// stay queued.
    ///
    /// ```
    /// let saas = kitty_testkit::FakeSaas::start();
    /// saas.go_down();
    /// assert_eq!(saas.availability(), kitty_testkit::Availability::Down);
    /// saas.come_back();
    /// assert_eq!(saas.availability(), kitty_testkit::Availability::Up);
    /// ```
    pub fn go_down(&self) {
        self.state().availability = Availability::Down;
    }

    /// Refuse every batch until [`come_back`](Self::come_back): each event `rejected`. Sync sends
    /// a rejected event again after a back-off
    /// ([`REJECTION_BACKOFF_MS`](spec_kitty::sync::attempts::REJECTION_BACKOFF_MS)) and parks it
    /// after [`MAX_REJECTIONS`](spec_kitty::sync::attempts::MAX_REJECTIONS) rejections (`sync now
    /// --retry-rejected` puts it back).
    pub fn refuse_every_batch(&self) {
        self.state().availability = Availability::RefusingBatches;
    }

    /// Answer again as programmed (after [`go_down`](Self::go_down) or
    /// [`refuse_every_batch`](Self::refuse_every_batch)).
    pub fn come_back(&self) {
        self.state().availability = Availability::Up;
    }

    /// What the service does now.
    pub fn availability(&self) -> Availability {
        self.state().availability
    }

    /// Queue answers for the next batches (afterwards every event gets the default status).
    pub fn push_batch_answers(&self, answers: impl IntoIterator<Item = BatchAnswer>) {
        self.state().batches.extend(answers);
    }

    /// Extra fields of every token answer (device grant and refresh), over the defaults: e.g.
    /// an absolute `refresh_token_expires_at`, a `generation`, or `session_id: null`.
    ///
    /// ```
    /// let saas = kitty_testkit::FakeSaas::start();
    /// saas.set_grant_fields(serde_json::json!({"generation": 7}));
    /// ```
    pub fn set_grant_fields(&self, fields: Value) {
        if let Value::Object(map) = fields {
            self.state().grant_fields = map;
        }
    }

    /// The `error` the service gives with each event's status (default: none); kitty reads it
    /// only for a refusing status.
    ///
    /// ```
    /// let saas = kitty_testkit::FakeSaas::start();
    /// saas.set_rejection_reason("payload.wp_count: must be >= 0");
    /// ```
    pub fn set_rejection_reason(&self, reason: &str) {
        self.state().rejection_reason = Some(reason.into());
    }

    /// Assert that every event this service received conforms to the published event contract,
    /// and that it received at least one.
    ///
    /// ```no_run
    /// let saas = kitty_testkit::FakeSaas::start();
    /// // ... run a command that sends events ...
    /// saas.assert_received_events_conform(&kitty_testkit::EventContract::require());
    /// ```
    #[track_caller]
    pub fn assert_received_events_conform(&self, contract: &crate::EventContract) {
        contract.assert_conforms(&self.received_events());
    }

    /// The per-event status of unprogrammed batches (default `success`).
    pub fn set_default_event_status(&self, status: &str) {
        self.state().default_event_status = status.into();
    }

    /// Delay every batch answer (for timeout tests).
    pub fn set_batch_delay(&self, delay: Duration) {
        self.state().batch_delay = delay;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// The requests whose path (without query) is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.split('?').next() == Some(path))
            .collect()
    }

    /// How many requests hit `path`.
    pub fn count(&self, path: &str) -> usize {
        self.requests_to(path).len()
    }

    /// The events received in successful-or-not batches, in order, decoded from gzip.
    pub fn received_events(&self) -> Vec<Value> {
        self.requests_to("/api/v1/events/batch/")
            .iter()
            .flat_map(|r| r.json()["events"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// The received events (see [`Self::received_events`]) of one `event_type`, from the
    /// `since`-th on (a count taken before the step under test).
    pub fn received_events_of(&self, event_type: &str, since: usize) -> Vec<Value> {
        self.received_events()
            .into_iter()
            .skip(since)
            .filter(|e| e["event_type"] == event_type)
            .collect()
    }

    /// Every token this fake issued (for leak checks).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.issued.all()
    }

    pub(crate) fn secrets(&self) -> crate::secrets::Secrets {
        self.issued.clone()
    }
}

impl Drop for FakeSaas {
    fn drop(&mut self) {
        if let Some(dir) = &self.contract_log {
            crate::contract::log_received(dir, &self.received_events());
        }
        drop(self.server.take());
    }
}

fn handle(
    req: crate::http::Request,
    state: &Mutex<State>,
    issued: &crate::secrets::Secrets,
) -> crate::http::Answer {
    let headers: BTreeMap<String, String> = req.headers.into_iter().collect();
    let body = if headers.get("content-encoding").map(String::as_str) == Some("gzip") {
        let mut out = Vec::new();
        match flate2::read::GzDecoder::new(&req.body[..]).read_to_end(&mut out) {
            Ok(_) => out,
            Err(_) => req.body,
        }
    } else {
        req.body
    };
    let recorded = RecordedRequest {
        method: req.method,
        path: req.target,
        headers,
        body,
        at: Instant::now(),
    };
    let path = recorded.path.split('?').next().unwrap_or("").to_string();
    let (status, reply, delay) = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let answer = route(&mut s, &path, &recorded, issued);
        s.requests.push(recorded);
        answer
    };
    (status, reply.to_string(), delay)
}

fn grant(issued: &crate::secrets::Secrets, extra: &serde_json::Map<String, Value>) -> Value {
    let access = unique_token("saas-access");
    let refresh = unique_token("saas-refresh");
    issued.add(&access);
    issued.add(&refresh);
    let mut answer = json!({
        "access_token": access, "refresh_token": refresh, "token_type": "Bearer",
        "expires_in": 3600, "scope": "offline_access", "session_id": "sess-fake",
    });
    if let Value::Object(map) = &mut answer {
        map.extend(extra.clone());
    }
    answer
}

fn oauth_error(code: &str) -> (u16, Value, Duration) {
    (400, json!({"error": code}), Duration::ZERO)
}

fn route(
    s: &mut State,
    path: &str,
    req: &RecordedRequest,
    issued: &crate::secrets::Secrets,
) -> (u16, Value, Duration) {
    if s.availability == Availability::Down {
        return (
            503,
            json!({"detail": "service unavailable (FakeSaas is down)"}),
            Duration::ZERO,
        );
    }
    match (req.method.as_str(), path) {
        ("POST", "/oauth/device") => {
            let code = unique_token("device");
            (
                200,
                json!({
                    "device_code": code, "user_code": "KITY-CODE",
                    "verification_uri": "https://kitty.example/device",
                    "verification_uri_complete": "https://kitty.example/device?code=KITY-CODE",
                    "expires_in": 600, "interval": s.device_interval,
                }),
                Duration::ZERO,
            )
        }
        ("POST", "/oauth/token") => {
            let form = req.form();
            match form.get("grant_type").map(String::as_str) {
                Some("refresh_token") => match s.refresh.clone() {
                    RefreshAnswer::Grant => (200, grant(issued, &s.grant_fields), s.refresh_delay),
                    RefreshAnswer::Status(code) => {
                        (code, json!({"error": "invalid_grant"}), s.refresh_delay)
                    }
                },
                Some(_) => match s.device_polls.pop_front().unwrap_or(DevicePoll::Grant) {
                    DevicePoll::Pending => oauth_error("authorization_pending"),
                    DevicePoll::SlowDown => oauth_error("slow_down"),
                    DevicePoll::Expired => oauth_error("expired_token"),
                    DevicePoll::Denied => oauth_error("access_denied"),
                    DevicePoll::OtherError(code) => oauth_error(code),
                    DevicePoll::Grant => (200, grant(issued, &s.grant_fields), Duration::ZERO),
                },
                None => oauth_error("invalid_request"),
            }
        }
        ("POST", "/oauth/revoke") => (s.revoke_status, json!({}), Duration::ZERO),
        ("GET", "/api/v1/me") => match &s.me {
            MeAnswer::Teams(teams) => (
                200,
                json!({"user_id": "user-ada", "email": "ada@example.com", "name": "Ada Lovelace", "teams": teams}),
                Duration::ZERO,
            ),
            MeAnswer::Status(code) => (*code, json!({"detail": "error"}), Duration::ZERO),
        },
        ("POST", "/api/v1/events/batch/") => {
            let delay = s.batch_delay;
            let events = req.json()["events"].as_array().cloned().unwrap_or_default();
            if s.availability == Availability::RefusingBatches {
                let reason = s
                    .rejection_reason
                    .as_deref()
                    .unwrap_or("refused: FakeSaas refuses every batch");
                return (
                    200,
                    results(&events, &["rejected".into()], Some(reason)),
                    delay,
                );
            }
            match s.batches.pop_front() {
                Some(BatchAnswer::Status(code)) => (code, json!({"detail": "error"}), delay),
                Some(BatchAnswer::Body(body)) => (200, body, delay),
                Some(BatchAnswer::Statuses(list)) => (
                    200,
                    results(&events, &list, s.rejection_reason.as_deref()),
                    delay,
                ),
                None => {
                    let list = vec![s.default_event_status.clone()];
                    (
                        200,
                        results(&events, &list, s.rejection_reason.as_deref()),
                        delay,
                    )
                }
            }
        }
        _ => (404, json!({"detail": "not found"}), Duration::ZERO),
    }
}

fn results(events: &[Value], statuses: &[String], reason: Option<&str>) -> Value {
    let results: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let status = statuses
                .get(i)
                .or(statuses.last())
                .cloned()
                .unwrap_or_else(|| "success".into());
            match (status.as_str(), reason) {
                ("<null>", _) => json!({"event_id": e["event_id"], "status": null}),
                ("<missing>", _) => json!({"event_id": e["event_id"]}),
                (_, Some(why)) => {
                    json!({"event_id": e["event_id"], "status": status, "error": why})
                }
                _ => json!({"event_id": e["event_id"], "status": status}),
            }
        })
        .collect();
    json!({ "results": results })
}

#[cfg(test)]
mod tests {
    use super::{Availability, FakeSaas, url_decode};

    #[test]
    fn the_availability_is_what_the_test_last_said() {
        let saas = FakeSaas::start();
        assert_eq!(saas.availability(), Availability::Up);
        saas.go_down();
        assert_eq!(saas.availability(), Availability::Down);
        saas.refuse_every_batch();
        assert_eq!(saas.availability(), Availability::RefusingBatches);
        saas.come_back();
        assert_eq!(saas.availability(), Availability::Up);
    }

    #[test]
    fn form_values_are_percent_and_plus_decoded_and_malformed_escapes_kept() {
        assert_eq!(url_decode("a+b%41%2fc"), "a bA/c");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(url_decode("%"), "%");
        assert_eq!(url_decode("50%"), "50%");
        assert_eq!(url_decode("%C3%A9"), "é");
    }
}
