//! What the driver keeps in storage (`localStorage` or the like), and under
//! which keys.
//!
//! Every key starts with the storage key (`storageKey`, default `jobpoll`) and
//! the layout's version, `v1`:
//!
//! | key | value |
//! |---|---|
//! | `jobpoll/v1/jobs` | the ids of the saved waits and the next id |
//! | `jobpoll/v1/jobs/<id>` | one running wait: its URL (as given and as used), mode, options, owner, start time and the job's snapshot (a built-in profile in it by its name, see [`SavedProfile`]) |
//! | `jobpoll/v1/history` | the finished jobs, newest first |
//! | `jobpoll/v1/results` | the code generation results by graph and node |
//! | `jobpoll/v1/owners` | the pages' leases on the jobs they run (see [`crate::tabs`]) |
//!
//! and, in `sessionStorage` when there is one, `jobpoll/v1/owner`: this tab's
//! owner id, so that a reload of the tab takes its own jobs back at once.
//!
//! Every value is JSON of the form `{"format": 1, "data": ...}`. A value that
//! does not parse, or of another format, is skipped (the driver says so in a
//! warning event), never trusted.
//!
//! Plain Rust (no JavaScript), so that the formats are tested on every target.

use std::sync::Arc;

use jobpoll_core::Profile;
use serde::Serialize;
use serde_json::{Map, Value};

/// The format of every value this build writes and reads.
pub const FORMAT: u32 = 1;

/// The storage key used when `storageKey` is not given.
pub const DEFAULT_STORAGE_KEY: &str = "jobpoll";

/// The keys of one storage key's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    base: String,
}

impl Keys {
    /// The keys under `storage_key`.
    pub fn new(storage_key: &str) -> Keys {
        Keys {
            base: format!("{storage_key}/v{FORMAT}"),
        }
    }

    /// The index of the saved waits.
    pub fn index(&self) -> String {
        format!("{}/jobs", self.base)
    }

    /// One saved wait.
    pub fn job(&self, id: u32) -> String {
        format!("{}/jobs/{id}", self.base)
    }

    /// The finished jobs.
    pub fn history(&self) -> String {
        format!("{}/history", self.base)
    }

    /// The code generation results.
    pub fn results(&self) -> String {
        format!("{}/results", self.base)
    }

    /// The owners' leases, `{ownerId: lastSeenMs}`.
    pub fn owners(&self) -> String {
        format!("{}/owners", self.base)
    }

    /// This tab's owner id, in `sessionStorage`.
    pub fn owner(&self) -> String {
        format!("{}/owner", self.base)
    }
}

/// The index of the saved waits: which ids to look for, and where new ids start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// The ids of the waits saved under [`Keys::job`].
    pub ids: Ids,
    /// The id the next wait gets.
    pub next_id: u32,
}

/// A set of wait ids, in increasing order (a sorted list: a page saves a few
/// waits, and a `BTreeSet` of its own would be code kept for this alone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ids(Vec<u32>);

impl Ids {
    /// Adds `id`; whether it was not there.
    pub fn insert(&mut self, id: u32) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Takes `id` out; whether it was there.
    pub fn remove(&mut self, id: u32) -> bool {
        match self.0.binary_search(&id) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// The ids, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().copied()
    }

    /// The highest id.
    pub fn last(&self) -> Option<u32> {
        self.0.last().copied()
    }

    /// Keeps the ids for which `keep` holds.
    pub fn retain(&mut self, keep: impl FnMut(&u32) -> bool) {
        self.0.retain(keep);
    }
}

impl<const N: usize> From<[u32; N]> for Ids {
    fn from(ids: [u32; N]) -> Ids {
        let mut set = Ids::default();
        for id in ids {
            set.insert(id);
        }
        set
    }
}

/// One running wait, as saved. `S` is the job's snapshot, `O` the options,
/// `T` the text fields (borrowed when written).
///
/// A restore reads the job's state from the snapshot, and makes its spec and
/// configuration again from `href`, `mode` and `options`, as the wait made them:
/// the code that reads profiles, schedules and limits from JSON is then not in
/// the package (the snapshot still holds them, for anyone reading storage).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedJob<S, O = Value, T = String> {
    /// The wait's number, the same after a reload.
    pub id: u32,
    /// The URL the caller gave.
    pub url: T,
    /// That URL as the job uses it (resolved against the page's address).
    pub href: T,
    /// `wait` or `submit`.
    pub mode: T,
    /// The caller's options, the JavaScript-only ones left out.
    pub options: O,
    /// When the wait started (`Date.now()`, ms).
    pub started_at: f64,
    /// When the snapshot was saved (`Date.now()`, ms): the time since counts
    /// against the job's deadline when it is resumed.
    pub saved_at: f64,
    /// The job: its spec (profile, URL, headers, body), configuration and state.
    pub snapshot: S,
    /// The owner id of the page that runs it; none in a job saved by a build
    /// that kept no owners (such a job is taken by the first `restore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<T>,
}

impl<S, O, T> SavedJob<S, O, T> {
    /// The same saved wait with `f(snapshot)` for its snapshot.
    pub fn map_snapshot<R>(self, f: impl FnOnce(S) -> R) -> SavedJob<R, O, T> {
        SavedJob {
            id: self.id,
            url: self.url,
            href: self.href,
            mode: self.mode,
            options: self.options,
            started_at: self.started_at,
            saved_at: self.saved_at,
            snapshot: f(self.snapshot),
            owner: self.owner,
        }
    }
}

/// A stored value that cannot be used; the message says which and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `data` as the text stored under a key: `{"format":1,"data":...}`, the data
/// written by serde_json into the envelope's text (the envelope itself is not
/// generic, so every stored type shares it).
pub fn encode<T: Serialize>(data: &T) -> String {
    let mut text = envelope_start();
    if serde_json::to_writer(&mut text, data).is_err() {
        return String::new();
    }
    envelope_end(text)
}

fn envelope_start() -> Vec<u8> {
    format!("{{\"format\":{FORMAT},\"data\":").into_bytes()
}

fn envelope_end(mut text: Vec<u8>) -> String {
    text.push(b'}');
    String::from_utf8(text).unwrap_or_default()
}

/// The data stored under `key` as `text` (the envelope read, its format
/// checked), or why it cannot be used. Not generic: every stored type shares
/// it, and reads a field or a whole type from the data it returns.
pub fn data(key: &str, text: &str) -> Result<Value, Unreadable> {
    // Bytes, not `str`: the reader the core reads answers with.
    let mut value: Value = serde_json::from_slice(text.as_bytes())
        .map_err(|error| Unreadable(format!("{key} is not valid JSON ({error})")))?;
    match value.get("format").and_then(Value::as_u64) {
        Some(format) if format == u64::from(FORMAT) => {}
        Some(format) => {
            return Err(Unreadable(format!(
                "{key} has format version {format}, and this version reads {FORMAT}"
            )));
        }
        None => {
            return Err(Unreadable(format!("{key} has no format version")));
        }
    }
    value
        .get_mut("data")
        .map(Value::take)
        .ok_or_else(|| Unreadable(format!("{key} has no data")))
}

/// A type kept in storage, read back from its stored data by hand (see
/// `docs/decisions.md`, "Reading stored values by hand"): the readers share
/// the getters below, where serde's derive would instantiate a deserializer
/// for each type.
pub trait Stored: Sized {
    /// The value `data` holds, or what is wrong with it.
    fn from_data(data: &Value) -> Result<Self, String>;
}

/// The message of a stored value under `key` that does not hold what it
/// should (`why`).
pub fn unreadable(key: &str, why: &str) -> Unreadable {
    Unreadable(format!("{key} does not hold what it should ({why})"))
}

/// The `T` stored under `key` as `text`, or why it cannot be used.
pub fn decode<T: Stored>(key: &str, text: &str) -> Result<T, Unreadable> {
    T::from_data(&data(key, text)?).map_err(|why| unreadable(key, &why))
}

/// `value` as an object.
pub fn object(value: &Value) -> Result<&Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| "expected an object".to_owned())
}

/// The field `name` of `object`.
pub fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    object
        .get(name)
        .ok_or_else(|| format!("missing field `{name}`"))
}

/// Why the field `name` cannot be read: it is not `expected`.
fn invalid(name: &str, expected: &str) -> String {
    format!("`{name}` is not {expected}")
}

/// `value` as a `u32`, when it is a whole number that fits.
pub fn as_u32(value: &Value) -> Option<u32> {
    value.as_u64().and_then(|number| u32::try_from(number).ok())
}

/// The field `name` of `object` as a `u32`.
pub fn u32_field(object: &Map<String, Value>, name: &str) -> Result<u32, String> {
    as_u32(field(object, name)?).ok_or_else(|| invalid(name, "a whole number (u32)"))
}

/// The field `name` of `object` as a number.
pub fn f64_field(object: &Map<String, Value>, name: &str) -> Result<f64, String> {
    field(object, name)?
        .as_f64()
        .ok_or_else(|| invalid(name, "a number"))
}

/// The field `name` of `object` as a boolean.
pub fn bool_field(object: &Map<String, Value>, name: &str) -> Result<bool, String> {
    field(object, name)?
        .as_bool()
        .ok_or_else(|| invalid(name, "a boolean"))
}

/// The field `name` of `object` as a string.
pub fn string_field(object: &Map<String, Value>, name: &str) -> Result<String, String> {
    field(object, name)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| invalid(name, "a string"))
}

/// The field `name` of `object` as a string, `None` when it is absent or null.
pub fn optional_string_field(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_str()
            .map(|text| Some(text.to_owned()))
            .ok_or_else(|| invalid(name, "a string")),
    }
}

/// The field `name` of `object` as a list.
pub fn list_field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a [Value], String> {
    field(object, name)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| invalid(name, "a list"))
}

impl Stored for Index {
    fn from_data(data: &Value) -> Result<Index, String> {
        let object = object(data)?;
        let mut ids = Ids::default();
        for id in list_field(object, "ids")? {
            ids.insert(as_u32(id).ok_or_else(|| invalid("ids", "a list of ids"))?);
        }
        Ok(Index {
            ids,
            next_id: u32_field(object, "nextId")?,
        })
    }
}

/// A job's profile as saved in its snapshot: a built-in profile by its name
/// (`{"builtin": "jobs"}`), any other profile in its JSON form (`{"custom":
/// {...}}`). A restore makes the profile again from the wait's options.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedProfile<P> {
    /// One of [`Profile::BUILTIN_NAMES`], unchanged.
    Builtin(String),
    /// Any other profile.
    Custom(P),
}

/// What a profile other than a built-in one is saved as: the profile itself
/// where profile objects are read, and nothing where they are not (only names
/// are read then, so every profile is a built-in one, and the code that writes
/// a whole profile is not linked).
#[cfg(feature = "profile-objects")]
pub type CustomProfile = Arc<Profile>;
/// What a profile other than a built-in one is saved as: nothing, in a build
/// without profile objects (see the other definition).
#[cfg(not(feature = "profile-objects"))]
pub type CustomProfile = NoCustomProfile;

/// No value: a build without profile objects has no profile but the built-in
/// ones to save.
#[cfg(not(feature = "profile-objects"))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum NoCustomProfile {}

impl SavedProfile<CustomProfile> {
    /// `profile` as saved: by its name when it is a built-in profile as it is
    /// (each built-in profile is named as [`Profile::builtin`] knows it).
    pub fn of(profile: Arc<Profile>) -> SavedProfile<CustomProfile> {
        #[cfg(feature = "profile-objects")]
        if Profile::builtin(&profile.name).is_none_or(|known| known != *profile) {
            return SavedProfile::Custom(profile);
        }
        SavedProfile::Builtin(profile.name.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::history::History;

    #[test]
    fn keys_are_namespaced_and_versioned() {
        let keys = Keys::new("app");
        assert_eq!(keys.index(), "app/v1/jobs");
        assert_eq!(keys.job(7), "app/v1/jobs/7");
        assert_eq!(keys.history(), "app/v1/history");
        assert_eq!(keys.results(), "app/v1/results");
        assert_eq!(keys.owners(), "app/v1/owners");
        assert_eq!(keys.owner(), "app/v1/owner");
    }

    #[test]
    fn values_round_trip_in_their_envelope() {
        let index = Index {
            ids: [3, 5].into(),
            next_id: 6,
        };
        let text = encode(&index);
        assert_eq!(text, r#"{"format":1,"data":{"ids":[3,5],"nextId":6}}"#);
        assert_eq!(decode::<Index>("k", &text).unwrap(), index);
    }

    #[test]
    fn built_in_profiles_are_saved_by_name() {
        for name in Profile::BUILTIN_NAMES {
            let profile = Arc::new(Profile::builtin(name).unwrap());
            let json = serde_json::to_value(SavedProfile::of(profile)).unwrap();
            assert_eq!(json, serde_json::json!({ "builtin": name }));
        }
    }

    #[cfg(feature = "profile-objects")]
    #[test]
    fn other_profiles_are_saved_in_full() {
        // A built-in profile changed is saved in full.
        let mut changed = Profile::jobs();
        changed.eta_pointer = Some("/remaining".to_owned());
        let saved = SavedProfile::of(Arc::new(changed.clone()));
        let json = serde_json::to_value(&saved).unwrap();
        assert_eq!(json["custom"], serde_json::to_value(&changed).unwrap());
    }

    #[test]
    fn unusable_values_say_why() {
        let error = |text: &str| decode::<History>("app/v1/history", text).unwrap_err().0;
        assert!(error("{not json").contains("is not valid JSON"));
        assert_eq!(
            error(r#"{"format":2,"data":[]}"#),
            "app/v1/history has format version 2, and this version reads 1"
        );
        assert!(error(r#"{"data":[]}"#).contains("no format version"));
        assert!(error(r#"{"format":1}"#).contains("has no data"));
        assert!(error(r#"{"format":1,"data":{"x":1}}"#).contains("does not hold what it should"));
        assert!(decode::<History>("k", r#"{"format":1,"data":[]}"#).is_ok());
    }
}
