//! The headers of `wait`, `submit` and `status`: `-H 'Name: value'`, `-H @FILE`, and
//! the `JOBPOLL_TOKEN` environment variable, so that secrets need not be written on
//! the command line (where `ps` and the shell's history would show them).

use std::path::Path;

/// The environment variable whose value is sent as `Authorization: Bearer VALUE`
/// when no `-H` gives an `Authorization` header.
pub(crate) const TOKEN_VARIABLE: &str = "JOBPOLL_TOKEN";

/// The headers the `-H` options and the environment ask for, as name and value, in
/// the order given. `-H @FILE` reads one `Name: value` a line from FILE (blank lines
/// and lines starting with `#` skipped); a file that cannot be read, or a line that
/// is not a header, is an error naming the file and the line.
pub(crate) fn resolve(options: &[String]) -> Result<Vec<(String, String)>, String> {
    let token = std::env::var(TOKEN_VARIABLE).ok();
    resolve_with(options, token.as_deref())
}

/// [`resolve`], with the value of `JOBPOLL_TOKEN` given.
fn resolve_with(options: &[String], token: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for option in options {
        match option.strip_prefix('@') {
            Some(path) => headers.extend(read_file(Path::new(path))?),
            None => headers.push(parse(option).map_err(|error| format!("-H: {error}"))?),
        }
    }
    let has_authorization = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
    if let Some(token) = token.map(str::trim).filter(|token| !token.is_empty())
        && !has_authorization
    {
        headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
    }
    Ok(headers)
}

/// The headers of a header file.
fn read_file(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read the header file {}: {error}", path.display()))?;
    let mut headers = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let header = parse(line)
            .map_err(|error| format!("{} line {}: {error}", path.display(), index + 1))?;
        headers.push(header);
    }
    Ok(headers)
}

/// One `Name: value` header. The error never quotes the value: it may be a secret.
fn parse(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err("a header must look like `Name: value`".to_owned());
    };
    let (name, value) = (name.trim(), value.trim());
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("{name:?} is not a header name"));
    }
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!("the value of {name} is not a valid header value"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_header_file_skips_blank_lines_and_comments_and_names_a_bad_line() {
        let dir = std::env::temp_dir().join(format!("jobpoll-headers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("headers.txt");
        std::fs::write(
            &path,
            "# secrets\n\nAuthorization: Bearer s3cret\nX-Team:  a \n",
        )
        .expect("write");
        let option = format!("@{}", path.display());
        let headers =
            resolve_with(&strings(&["Accept: application/json", &option]), None).expect("headers");
        assert_eq!(
            headers,
            vec![
                ("Accept".to_owned(), "application/json".to_owned()),
                ("Authorization".to_owned(), "Bearer s3cret".to_owned()),
                ("X-Team".to_owned(), "a".to_owned()),
            ]
        );
        std::fs::write(&path, "X-Ok: 1\nBearer s3cret\n").expect("write");
        let error = resolve_with(&[option], None).expect_err("bad line");
        assert!(error.contains("headers.txt line 2"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        let error = resolve_with(&strings(&["@/nonexistent/h.txt"]), None).expect_err("missing");
        assert!(error.contains("/nonexistent/h.txt"), "{error}");
    }

    #[test]
    fn the_token_variable_is_sent_unless_a_header_gives_authorization() {
        let headers = resolve_with(&[], Some("tok-123")).expect("headers");
        assert_eq!(
            headers,
            vec![("Authorization".to_owned(), "Bearer tok-123".to_owned())]
        );
        let given = strings(&["authorization: Basic abc"]);
        let headers = resolve_with(&given, Some("tok-123")).expect("headers");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].1, "Basic abc");
        assert!(resolve_with(&[], Some("  ")).expect("headers").is_empty());
    }
}
