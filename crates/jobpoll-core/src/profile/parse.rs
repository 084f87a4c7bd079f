//! Reading a profile a person wrote: [`Profile::from_json`], whose errors name the
//! key that is wrong, where it is, and the known key nearest to it.
//!
//! Every struct of the JSON form refuses keys it does not know (serde's
//! `deny_unknown_fields`); serde's message lists the known keys, and the nearest
//! one is suggested. Two cases serde does not report as an unknown key are looked
//! up in the JSON itself: a misspelt tag of a rule (`"form"` for `"from"`, which
//! serde reports as a missing `from`), and a key beside the rule of a completion
//! rule that takes none (`google_operation`, whose extra keys serde ignores).

use super::Profile;

/// Why a profile's JSON was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A key that no profile has at that place.
    #[error("unknown key `{key}` {}{}", place(path), suggest(suggestion, known))]
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where the object holding it is (`completion.values`; empty: the top
        /// level).
        path: String,
        /// The known key nearest to it, if one is near.
        suggestion: Option<String>,
        /// The keys known at that place.
        known: Vec<String>,
    },
    /// A value that must be one of a few names (a rule, a transform) and is none.
    #[error(
        "unknown value `{value}` {}{}",
        place(path),
        suggest(suggestion, known)
    )]
    UnknownName {
        /// The value as written.
        value: String,
        /// Where it is (`completion.rule`).
        path: String,
        /// The known name nearest to it, if one is near.
        suggestion: Option<String>,
        /// The names known there.
        known: Vec<String>,
    },
    /// Anything else: not JSON, a missing key, a value of the wrong type.
    #[error("{message} {}", place(path))]
    Invalid {
        /// Where (empty: the top level or unknown).
        path: String,
        /// serde's message.
        message: String,
    },
}

fn place(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("at `{path}`")
    }
}

fn suggest(suggestion: &Option<String>, known: &[String]) -> String {
    match (suggestion, known) {
        (Some(near), _) => format!("; did you mean `{near}`?"),
        (None, []) => String::new(),
        (None, known) => format!("; known here: `{}`", known.join("`, `")),
    }
}

/// The name among `known` nearest to `written`, when it is near enough to be a
/// slip of the keyboard (Jaro-Winkler similarity of 0.8 or more).
pub fn nearest<'k>(written: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|name| (strsim::jaro_winkler(written, name), name))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

impl Profile {
    /// Reads a profile from its JSON form, refusing unknown keys with the known
    /// key nearest to each (see [`ProfileError`]).
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let read: Result<Profile, _> = serde_path_to_error::deserialize(&mut de);
        let profile = read.map_err(|error| explain_error(text, &error))?;
        de.end().map_err(|error| invalid("", &error))?;
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid("", &e))?;
        extra_completion_keys(&profile, &doc).map_or(Ok(profile), Err)
    }
}

/// The segments of a path as serde_path_to_error gives them.
fn segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

fn dotted(segments: &[String]) -> String {
    segments.join(".")
}

/// serde_json's message without its ` at line L column C`.
fn message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let tail = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&tail).unwrap_or(&text).to_owned()
}

fn invalid(path: &str, error: &serde_json::Error) -> ProfileError {
    // Where JSON itself is broken, the line and column are the place.
    let message = if error.is_syntax() || error.is_eof() {
        error.to_string()
    } else {
        message(error)
    };
    ProfileError::Invalid {
        path: path.to_owned(),
        message,
    }
}

/// The first and the other names quoted with backticks in `text`.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn explain_error(
    text: &str,
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> ProfileError {
    let inner = error.inner();
    let message = message(inner);
    let mut path = segments(error.path());
    let doc: Option<serde_json::Value> = serde_json::from_str(text).ok();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let mut names = quoted(rest);
        if names.is_empty() {
            return invalid(&dotted(&path), inner);
        }
        let key = names.remove(0);
        // serde_path_to_error's path ends at the key itself, or, inside an
        // internally tagged rule (read from a buffer), at the rule: find the
        // object that holds the key below it.
        if path.last() == Some(&key) {
            path.pop();
        } else if let Some(doc) = &doc
            && let Some(found) = holder(doc, &path, &key)
        {
            path = found;
        }
        let suggestion = nearest(&key, names.iter().map(String::as_str)).map(str::to_owned);
        return ProfileError::UnknownKey {
            key,
            path: dotted(&path),
            suggestion,
            known: names,
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let mut names = quoted(rest);
        if names.is_empty() {
            return invalid(&dotted(&path), inner);
        }
        let value = names.remove(0);
        let suggestion = nearest(&value, names.iter().map(String::as_str)).map(str::to_owned);
        if let Some(doc) = &doc
            && let Some(found) = tag_of(doc, &path, &value)
        {
            path = found;
        }
        return ProfileError::UnknownName {
            value,
            path: dotted(&path),
            suggestion,
            known: names,
        };
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        // A misspelt key reads as a missing one: the key beside it nearest to
        // the missing one is the slip.
        let wanted = quoted(rest);
        if let (Some(wanted), Some(doc)) = (wanted.first(), &doc)
            && let Some(serde_json::Value::Object(map)) = at(doc, &path)
            && let Some(key) = nearest(wanted, map.keys().map(String::as_str))
        {
            return ProfileError::UnknownKey {
                key: key.to_owned(),
                path: dotted(&path),
                suggestion: Some(wanted.clone()),
                known: vec![wanted.clone()],
            };
        }
    }
    invalid(&dotted(&path), inner)
}

/// The value at `path` in `doc`.
fn at<'v>(doc: &'v serde_json::Value, path: &[String]) -> Option<&'v serde_json::Value> {
    path.iter().try_fold(doc, |value, segment| match value {
        serde_json::Value::Object(map) => map.get(segment),
        serde_json::Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The path of the first object at or below `path` that has `key`.
fn holder(doc: &serde_json::Value, path: &[String], key: &str) -> Option<Vec<String>> {
    fn search(value: &serde_json::Value, path: &mut Vec<String>, key: &str) -> bool {
        match value {
            serde_json::Value::Object(map) => {
                if map.contains_key(key) {
                    return true;
                }
                for (name, inner) in map {
                    path.push(name.clone());
                    if search(inner, path, key) {
                        return true;
                    }
                    path.pop();
                }
                false
            }
            _ => false,
        }
    }
    let mut found = path.to_vec();
    search(at(doc, path)?, &mut found, key).then_some(found)
}

/// The path of the tag (`rule`, `from`) or value at or below `path` that reads
/// `value`.
fn tag_of(doc: &serde_json::Value, path: &[String], value: &str) -> Option<Vec<String>> {
    match at(doc, path)? {
        serde_json::Value::String(s) if s == value => Some(path.to_vec()),
        serde_json::Value::Object(map) => map.iter().find_map(|(name, inner)| {
            (inner.as_str() == Some(value)).then(|| {
                let mut found = path.to_vec();
                found.push(name.clone());
                found
            })
        }),
        _ => None,
    }
}

/// Keys beside the rule of a completion that the rule does not read: serde
/// ignores them for a rule without fields.
fn extra_completion_keys(profile: &Profile, doc: &serde_json::Value) -> Option<ProfileError> {
    let written = doc.get("completion")?.as_object()?;
    let serde_json::Value::Object(read) = serde_json::to_value(&profile.completion).ok()? else {
        return None;
    };
    let key = written.keys().find(|key| !read.contains_key(*key))?;
    let known: Vec<String> = read.keys().cloned().collect();
    Some(ProfileError::UnknownKey {
        key: key.clone(),
        path: "completion".to_owned(),
        suggestion: nearest(key, known.iter().map(String::as_str)).map(str::to_owned),
        known,
    })
}
