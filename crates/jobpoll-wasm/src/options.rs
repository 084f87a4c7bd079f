//! What a caller asks for, as JavaScript passes it: the options of `wait` and
//! `submit`, read into the core's [`JobSpec`] and [`Config`].
//!
//! These types hold no JavaScript values, so they build and are tested on every
//! target; the JavaScript-only options (`signal`, `onEvent`) are read apart.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jobpoll_core::profile::ProfileError;
use jobpoll_core::schedule::Adaptive;
use jobpoll_core::{Config, Jitter, JobSpec, Profile, Schedule, Start};
use url::Url;

// Reading the options from JSON: `WaitOptions::from_json`.
#[path = "options_json.rs"]
mod json;

pub use json::{JS_ONLY, refuse};

/// After errors in a row, a fixed `interval` retries after it, then 1.5 times it,
/// and so on up to this many times it.
const RETRY_CAP: u32 = 10;

/// The preset used when `preset` is not given (with the adaptive poll schedule).
pub const DEFAULT_PRESET: &str = "standard";

/// The options of `jobs.wait(url, options)` and `jobs.submit(url, options)`.
///
/// Every field is optional. Times are in milliseconds, as in JavaScript; the
/// JSON form, with its keys in camelCase, is read by [`WaitOptions::from_json`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WaitOptions {
    /// How the API speaks: a built-in profile by name (`jobs`, the default,
    /// `codegen`, `file-tasks`, `turn`, `google`, `azure`), or a profile object
    /// in the JSON form [`Profile::from_json`] reads.
    pub profile: Option<ProfileChoice>,
    /// Schedule and limits by name (see [`Config::PRESET_NAMES`]). Without it:
    /// the `standard` preset's limits with the adaptive poll schedule, which polls
    /// near the end the server's ETA (or the progress slope) predicts.
    pub preset: Option<String>,
    /// Poll every this many milliseconds instead of the schedule. After an error,
    /// retry after it, then 1.5 times it, ... at most 10 times it, each cut at
    /// random by up to half. A wait the server asks for (`Retry-After`) still wins.
    pub interval: Option<f64>,
    /// Give up waiting after this many milliseconds.
    pub timeout: Option<f64>,
    /// Give up after this many status polls.
    pub max_attempts: Option<u32>,
    /// Give up after this many failed requests in a row.
    pub max_errors: Option<u32>,
    /// Time allowed for one request, in milliseconds.
    pub request_timeout: Option<f64>,
    /// Largest response body read, in bytes (default 8 MiB). A larger 2xx body
    /// is an error the job retries; a larger error body is cut.
    pub max_body_bytes: Option<u64>,
    /// Headers sent with every request (`Authorization`, ...), in order: an
    /// object of names to values, or a list of `[name, value]` pairs (where a
    /// name may repeat).
    pub headers: Vec<(String, String)>,
    /// `submit` only: the method of the create request (default `POST`).
    pub method: Option<String>,
    /// `submit` only: the body of the create request.
    pub body: Option<String>,
}

/// The profile a wait speaks: a built-in one by name, or one written out.
#[derive(Clone, Debug, PartialEq)]
pub enum ProfileChoice {
    /// A built-in profile ([`Profile::BUILTIN_NAMES`]).
    Named(String),
    /// A profile in its JSON form, read by [`Profile::from_json`].
    Custom(serde_json::Value),
}

impl ProfileChoice {
    /// The profile itself, or why it cannot be one.
    pub fn profile(&self) -> Result<Profile, OptionsError> {
        match self {
            ProfileChoice::Named(name) => Profile::builtin(name).ok_or_else(|| {
                OptionsError::new(
                    "profile",
                    format!(
                        "unknown profile {name:?}; choose one of {}, or pass a profile object",
                        Profile::BUILTIN_NAMES.join(", ")
                    ),
                )
            }),
            ProfileChoice::Custom(value) => custom_profile(value),
        }
    }
}

/// A profile object, read as the core reads a profile's JSON.
#[cfg(feature = "profile-objects")]
fn custom_profile(value: &serde_json::Value) -> Result<Profile, OptionsError> {
    Profile::from_json(&value.to_string()).map_err(OptionsError::from_profile)
}

/// Without the `profile-objects` feature, only names.
#[cfg(not(feature = "profile-objects"))]
fn custom_profile(_: &serde_json::Value) -> Result<Profile, OptionsError> {
    Err(OptionsError::new(
        "profile",
        "this build reads only the built-in profiles (the crate's profile-objects feature is off): pass a profile's name",
    ))
}

/// Options that cannot work: the message says which and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionsError {
    /// What is wrong, as a sentence a person reads.
    pub message: String,
    /// The option at fault (`interval`, `headers`, `profile`), when one is.
    pub option: Option<String>,
    /// When a profile object was refused: the core's reason, with the key at
    /// fault and the known key nearest to it.
    pub profile: Option<Box<ProfileError>>,
}

impl OptionsError {
    /// `option` cannot work, because of `message`.
    pub fn new(option: &str, message: impl Into<String>) -> OptionsError {
        OptionsError {
            message: message.into(),
            option: Some(option.to_owned()),
            profile: None,
        }
    }

    /// A profile object the core refused; the message is the core's.
    pub fn from_profile(error: ProfileError) -> OptionsError {
        OptionsError {
            message: error.to_string(),
            option: Some("profile".to_owned()),
            profile: Some(Box::new(error)),
        }
    }
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OptionsError {}

/// How a job starts: wait on an existing job, or create one and wait on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `jobs.wait(statusUrl)`.
    Wait,
    /// `jobs.submit(createUrl)`.
    Submit,
}

impl Mode {
    /// The name JavaScript sees (`list()`, `restore()`, saved waits).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Wait => "wait",
            Mode::Submit => "submit",
        }
    }

    /// The mode named `name`: anything but `submit` is a wait.
    pub fn named(name: &str) -> Mode {
        if name == "submit" {
            Mode::Submit
        } else {
            Mode::Wait
        }
    }
}

impl WaitOptions {
    /// The job these options describe for `url`.
    pub fn spec(&self, url: &str, mode: Mode) -> Result<JobSpec<Arc<Profile>>, OptionsError> {
        let url = Url::parse(url)
            .map_err(|error| OptionsError::new("url", format!("bad URL {url:?}: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OptionsError::new(
                "url",
                format!(
                    "the URL must start with http:// or https://, not {}:",
                    url.scheme()
                ),
            ));
        }
        let profile = match &self.profile {
            Some(choice) => choice.profile()?,
            None => Profile::jobs(),
        };
        let start = match mode {
            Mode::Wait => {
                if self.method.is_some() || self.body.is_some() {
                    return Err(OptionsError::new(
                        if self.method.is_some() {
                            "method"
                        } else {
                            "body"
                        },
                        "method and body create a job: use submit, not wait",
                    ));
                }
                Start::Poll {
                    status_url: url,
                    job_id: None,
                }
            }
            Mode::Submit => {
                let method = self.method.as_deref().unwrap_or("POST");
                let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .map_err(|_| OptionsError::new("method", format!("bad method {method:?}")))?;
                Start::Submit {
                    method,
                    url,
                    body: self.body.clone(),
                }
            }
        };
        for (name, value) in &self.headers {
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                OptionsError::new(
                    "headers",
                    format!(
                        "bad header name {name:?}: a name is a token (letters, digits and !#$%&'*+-.^_`|~)"
                    ),
                )
            })?;
            http::HeaderValue::from_str(value).map_err(|_| {
                OptionsError::new(
                    "headers",
                    format!(
                        "bad value for header {name:?}: a value is visible ASCII, spaces and tabs, without line breaks"
                    ),
                )
            })?;
        }
        Ok(JobSpec {
            profile: Arc::new(profile),
            start,
            headers: self.headers.clone(),
        })
    }

    /// The schedule and limits these options ask for.
    pub fn config(&self) -> Result<Config, OptionsError> {
        let name = self.preset.as_deref().unwrap_or(DEFAULT_PRESET);
        let mut config = Config::preset(name).ok_or_else(|| {
            OptionsError::new(
                "preset",
                format!(
                    "unknown preset {name:?}; choose one of {}",
                    Config::PRESET_NAMES.join(", ")
                ),
            )
        })?;
        if let Some(interval) = self.interval {
            let interval = millis("interval", interval)?;
            config.poll = Schedule::fixed(interval);
            config.retry = Schedule::exponential(interval, 1.5, interval.saturating_mul(RETRY_CAP))
                .with_jitter(Jitter::Equal);
        } else if self.preset.is_none() {
            config.poll = Schedule::adaptive(Adaptive::standard());
        }
        if let Some(timeout) = self.timeout {
            config.deadline = Some(millis("timeout", timeout)?);
        }
        if let Some(limit) = self.request_timeout {
            config.request_time_limit = millis("requestTimeout", limit)?;
        }
        if let Some(bytes) = self.max_body_bytes {
            if bytes == 0 {
                return Err(OptionsError::new(
                    "maxBodyBytes",
                    "maxBodyBytes must be a number of bytes above zero",
                ));
            }
            config.max_body_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(attempts) = self.max_attempts {
            config.max_attempts = Some(attempts.max(1));
        }
        if let Some(errors) = self.max_errors {
            config.max_consecutive_errors = Some(errors.max(1));
        }
        config.validate().map_err(|error| OptionsError {
            message: error.to_string(),
            option: None,
            profile: None,
        })?;
        Ok(config)
    }
}

/// A positive number of milliseconds as a duration, or why not.
fn millis(name: &str, value: f64) -> Result<Duration, OptionsError> {
    // About 30 years: longer waits are surely a mistake in units.
    const MAX_MS: f64 = 1e12;
    if value.is_finite() && value > 0.0 && value <= MAX_MS {
        Ok(Duration::from_micros((value * 1000.0).round() as u64))
    } else {
        Err(OptionsError::new(
            name,
            format!("{name} must be a number of milliseconds above zero, not {value}"),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_jobs_profile_and_the_adaptive_schedule() {
        let options = WaitOptions::default();
        let spec = options
            .spec("http://127.0.0.1:1/api/v1/jobs/a", Mode::Wait)
            .unwrap();
        assert_eq!(*spec.profile, Profile::jobs());
        assert!(matches!(spec.start, Start::Poll { .. }));
        let config = options.config().unwrap();
        assert_eq!(config.poll, Schedule::adaptive(Adaptive::standard()));
        assert_eq!(config.deadline, Config::standard().deadline);
    }

    #[test]
    fn interval_and_limits_override_the_preset() {
        let options = WaitOptions {
            preset: Some("fast".into()),
            interval: Some(250.0),
            timeout: Some(5000.0),
            request_timeout: Some(1500.0),
            max_attempts: Some(7),
            max_body_bytes: Some(4096),
            ..WaitOptions::default()
        };
        let config = options.config().unwrap();
        assert_eq!(config.poll, Schedule::fixed(Duration::from_millis(250)));
        assert_eq!(config.deadline, Some(Duration::from_secs(5)));
        assert_eq!(config.request_time_limit, Duration::from_millis(1500));
        assert_eq!(config.max_attempts, Some(7));
        assert_eq!(config.max_body_bytes, 4096);
    }

    #[test]
    fn bad_options_say_what_is_wrong() {
        let bad = |options: WaitOptions| options.config().unwrap_err().message;
        assert!(
            bad(WaitOptions {
                preset: Some("slow".into()),
                ..WaitOptions::default()
            })
            .starts_with("unknown preset \"slow\"; choose one of standard, fast")
        );
        assert!(
            bad(WaitOptions {
                interval: Some(-1.0),
                ..WaitOptions::default()
            })
            .contains("interval must be a number of milliseconds above zero")
        );
        assert!(
            bad(WaitOptions {
                max_body_bytes: Some(0),
                ..WaitOptions::default()
            })
            .contains("maxBodyBytes")
        );
        let spec =
            |options: WaitOptions, url: &str, mode| options.spec(url, mode).unwrap_err().message;
        assert!(spec(WaitOptions::default(), "not a url", Mode::Wait).starts_with("bad URL"));
        assert!(spec(WaitOptions::default(), "ftp://x/y", Mode::Wait).contains("http://"));
        let profile = WaitOptions {
            profile: Some(ProfileChoice::Named("nope".into())),
            ..WaitOptions::default()
        };
        assert!(spec(profile, "http://x/y", Mode::Wait).contains("choose one of jobs"));
        let body = WaitOptions {
            body: Some("{}".into()),
            ..WaitOptions::default()
        };
        assert!(spec(body, "http://x/y", Mode::Wait).contains("use submit"));
        let header = WaitOptions {
            headers: vec![("bad name".to_owned(), "v".to_owned())],
            ..WaitOptions::default()
        };
        assert!(spec(header, "http://x/y", Mode::Wait).contains("bad header name"));
    }

    #[test]
    fn submit_creates_with_the_method_and_body() {
        let options = WaitOptions {
            method: Some("put".into()),
            body: Some("{\"a\":1}".into()),
            headers: vec![("Authorization".to_owned(), "Bearer t".to_owned())],
            ..WaitOptions::default()
        };
        let spec = options
            .spec("https://api.example.com/api/v1/x-job", Mode::Submit)
            .unwrap();
        match spec.start {
            Start::Submit { method, body, .. } => {
                assert_eq!(method, http::Method::PUT);
                assert_eq!(body.as_deref(), Some("{\"a\":1}"));
            }
            Start::Poll { .. } => panic!("a submit"),
        }
        assert_eq!(
            spec.headers,
            vec![("Authorization".to_owned(), "Bearer t".to_owned())]
        );
    }

    #[test]
    fn a_bad_header_value_names_the_header() {
        let options = WaitOptions {
            headers: vec![("X-Token".to_owned(), "a\nb".to_owned())],
            ..WaitOptions::default()
        };
        let error = options.spec("http://x/y", Mode::Wait).unwrap_err();
        assert!(
            error
                .message
                .starts_with("bad value for header \"X-Token\""),
            "{error}"
        );
        assert_eq!(error.option.as_deref(), Some("headers"));
    }

    #[test]
    #[cfg(feature = "profile-objects")]
    fn a_profile_object_is_read_as_the_core_reads_profile_json() {
        let jobs = serde_json::to_value(Profile::jobs()).unwrap();
        let options = WaitOptions::from_json(&serde_json::json!({ "profile": jobs })).unwrap();
        let spec = options.spec("http://x/y", Mode::Wait).unwrap();
        assert_eq!(*spec.profile, Profile::jobs());

        let mut misspelt = jobs.clone();
        let object = misspelt.as_object_mut().unwrap();
        let value = object.remove("completion").unwrap();
        object.insert("completoin".to_owned(), value);
        let options = WaitOptions::from_json(&serde_json::json!({ "profile": misspelt })).unwrap();
        let error = options.spec("http://x/y", Mode::Wait).unwrap_err();
        let core = Profile::from_json(&misspelt.to_string()).unwrap_err();
        assert_eq!(error.message, core.to_string());
        assert!(
            error.message.contains("did you mean `completion`"),
            "{error}"
        );
        assert_eq!(error.option.as_deref(), Some("profile"));
        assert_eq!(error.profile, Some(Box::new(core)));
    }
}
