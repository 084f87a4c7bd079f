//! A single-pass, allocation-free JSON scanner that finds the values a few JSON
//! pointers point to, without building a `serde_json::Value`.
//!
//! [`Scan::run`] validates the whole document while it walks it and records, for
//! each target pointer, the text of the value the pointer reaches and what kind of
//! value it is. It answers [`Unsure`] whenever it cannot promise that
//! `serde_json::from_str::<Value>` followed by an RFC 6901 lookup would give the same
//! value: on invalid JSON of any kind, on the few valid inputs serde_json may refuse
//! or read in a way this scanner does not model (numbers with an exponent or longer
//! than [`MAX_NUMBER`] bytes, nesting deeper than [`MAX_DEPTH`]), on a key that occurs
//! twice on a target's path (serde_json keeps the last one), on an escaped key where
//! a target could match it, and on pointers it does not follow (more than
//! [`MAX_TARGETS`] targets, a `~` escape in a segment a key may match, pointers over
//! 255 bytes or deeper than 16 segments). The caller then takes the slow path, which
//! gives the exact answer, error included.
//!
//! Keys are compared with the raw pointer text, without decoding `~0` and `~1`: a
//! key without escapes, `/` or `~` equals a decoded segment exactly when it equals
//! the raw one, and other keys are compared byte by byte up to the segment's first
//! `~`, where the scan gives up.

/// The scanner cannot promise serde_json's answer: use the full parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unsure;

/// Targets one scan can look for.
pub(crate) const MAX_TARGETS: usize = 32;
/// Segments a target pointer may have for the scan to follow it.
const MAX_SEGMENTS: usize = 16;
/// Bytes one target pointer may have (the positions of its `/`s are stored as `u8`).
const MAX_POINTER: usize = 255;
/// Containers nested deeper than this are left to serde_json (whose limit is 128).
pub(crate) const MAX_DEPTH: usize = 100;
/// Numbers longer than this are left to serde_json (which refuses numbers beyond
/// `f64`; without an exponent, 100 digits stay far below `f64::MAX`).
pub(crate) const MAX_NUMBER: usize = 100;

/// What kind of JSON value a target points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// `null`.
    Null = 1,
    /// `true` or `false`.
    Bool,
    /// A number (no exponent, at most [`MAX_NUMBER`] bytes).
    Number,
    /// A string without escapes: its text between the quotes is its value.
    String,
    /// A string with a backslash escape.
    EscapedString,
    /// An object.
    Object,
    /// An array.
    Array,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Null,
        Kind::Bool,
        Kind::Number,
        Kind::String,
        Kind::EscapedString,
        Kind::Object,
        Kind::Array,
    ];
}

/// A value found by a scan: its kind and its exact text in the document (with the
/// quotes, for a string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found<'a> {
    /// The kind of value.
    pub(crate) kind: Kind,
    /// The value's text, a slice of the scanned document.
    pub(crate) text: &'a str,
}

/// Where a found value is in the text; all zero when nothing was found.
#[derive(Clone, Copy, Default)]
struct Span {
    /// A [`Kind`] as `u8`, or 0.
    kind: u8,
    start: u32,
    end: u32,
}

/// How a key compares with a target's segment.
enum Match {
    /// The key is not the segment.
    No,
    /// The key is the last segment: the target points at the key's value.
    Last,
    /// The key is the segment; the `/` before the next segment is at this index.
    Inner(usize),
}

/// Compares `key` (raw text without escapes) with the segment of `pointer` after
/// the `/` at `slash`.
///
/// A `plain` key holds neither `/` nor `~`. Such a key equals the decoded segment
/// exactly when it equals the raw one (a segment's escapes decode to `/` or `~`),
/// so one comparison of bytes decides. Other keys are compared byte by byte, and a
/// `~` met in the segment before the comparison is decided is [`Unsure`] (escapes
/// are not decoded): bytes before a segment's first `~` are the same raw and
/// decoded, so a mismatch there is final.
fn compare(pointer: &[u8], slash: usize, key: &[u8], plain: bool) -> Result<Match, Unsure> {
    let start = slash + 1;
    let next = start + key.len();
    if plain {
        let matched = match pointer.get(next) {
            None => Match::Last,
            Some(b'/') => Match::Inner(next),
            Some(_) => return Ok(Match::No),
        };
        return Ok(if pointer.get(start..next) == Some(key) {
            matched
        } else {
            Match::No
        });
    }
    for (offset, &byte) in key.iter().enumerate() {
        match pointer.get(start + offset) {
            Some(b'~') => return Err(Unsure),
            Some(&p) if p == byte && p != b'/' => {}
            _ => return Ok(Match::No),
        }
    }
    match pointer.get(next) {
        None => Ok(Match::Last),
        Some(b'/') => Ok(Match::Inner(next)),
        Some(b'~') => Err(Unsure),
        Some(_) => Ok(Match::No),
    }
}

/// The segment of `pointer` after the `/` at `slash` (for array indices).
fn segment(pointer: &[u8], slash: usize) -> &[u8] {
    let rest = pointer.get(slash + 1..).unwrap_or(b"");
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    rest.get(..end).unwrap_or(b"")
}

/// The array index a segment names, by the rules of `json_pointer`: decimal digits,
/// no sign, no leading zero unless it is `0`.
fn index_of(segment: &[u8]) -> Option<usize> {
    if segment.is_empty() || (segment.len() > 1 && segment[0] == b'0') {
        return None;
    }
    if !segment.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(segment).ok()?.parse().ok()
}

/// Byte classes.
const PLAIN: u8 = 0;
/// `"`, `\` and control characters: the bytes a string scan stops at.
const STRING_STOP: u8 = 1;
/// JSON whitespace (space, tab, line feed, carriage return).
const SPACE: u8 = 2;

static CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = STRING_STOP;
        byte += 1;
    }
    table[b'"' as usize] = STRING_STOP;
    table[b'\\' as usize] = STRING_STOP;
    table[b' ' as usize] = SPACE;
    table[b'\t' as usize] = SPACE | STRING_STOP;
    table[b'\n' as usize] = SPACE | STRING_STOP;
    table[b'\r' as usize] = SPACE | STRING_STOP;
    table
};

fn hex(byte: u8) -> Option<u16> {
    match byte {
        b'0'..=b'9' => Some(u16::from(byte - b'0')),
        b'a'..=b'f' => Some(u16::from(byte - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(byte - b'A' + 10)),
        _ => None,
    }
}

/// The bucket of a segment or key by its first byte (see [`Scan::buckets`]).
fn bucket(first: u8) -> usize {
    usize::from(first & 31)
}

/// One scan: the targets, then (after [`Scan::run`]) what each one found. Kept
/// as parallel arrays that start out zero, so that a scan is cheap to set up.
pub(crate) struct Scan<'p, 'a> {
    count: usize,
    pointers: [&'p [u8]; MAX_TARGETS],
    /// `slashes[t][d]`: where the `/` before segment `d` of target `t` is, known
    /// once the target has matched segments `0..d`.
    slashes: [[u8; MAX_SEGMENTS]; MAX_TARGETS],
    /// Bit `d` of `seen[t]`: a key (or index) matched segment `d` of target `t`.
    seen: [u16; MAX_TARGETS],
    found: [Span; MAX_TARGETS],
    text: &'a [u8],
    source: &'a str,
}

impl<'p, 'a> Scan<'p, 'a> {
    /// A scan with no targets yet.
    pub(crate) fn new() -> Scan<'p, 'a> {
        Scan {
            count: 0,
            pointers: [b""; MAX_TARGETS],
            slashes: [[0; MAX_SEGMENTS]; MAX_TARGETS],
            seen: [0; MAX_TARGETS],
            found: [Span::default(); MAX_TARGETS],
            text: b"",
            source: "",
        }
    }

    /// Adds a target pointer; [`Unsure`] when there are too many or it is one this
    /// scanner does not handle.
    #[inline]
    pub(crate) fn target(&mut self, pointer: &'p str) -> Result<(), Unsure> {
        if pointer.len() > MAX_POINTER {
            return Err(Unsure);
        }
        let slot = self.pointers.get_mut(self.count).ok_or(Unsure)?;
        *slot = pointer.as_bytes();
        self.count += 1;
        Ok(())
    }

    /// What the scan found for `pointer`: `Ok(None)` when the pointer reaches no
    /// value, `Err(Unsure)` when `pointer` was never a target.
    pub(crate) fn get(&self, pointer: &str) -> Result<Option<Found<'a>>, Unsure> {
        let pointers = self.pointers.get(..self.count).unwrap_or(&[]);
        let pointer = pointer.as_bytes();
        // The caller asks with the very slices it registered: compare addresses
        // first, then text.
        let index = pointers
            .iter()
            .position(|p| core::ptr::eq(*p, pointer))
            .or_else(|| pointers.iter().position(|p| *p == pointer))
            .ok_or(Unsure)?;
        let span = self.found.get(index).copied().unwrap_or_default();
        if span.kind == 0 {
            return Ok(None);
        }
        let kind = *Kind::ALL.get(usize::from(span.kind) - 1).ok_or(Unsure)?;
        let range = span.start as usize..span.end as usize;
        let text = self.source.get(range).ok_or(Unsure)?;
        Ok(Some(Found { kind, text }))
    }

    /// Scans `text`, a whole JSON document without leading whitespace, recording
    /// what every target points to. Called once per scan.
    pub(crate) fn run(&mut self, text: &'a str) -> Result<(), Unsure> {
        // Spans are stored as `u32`.
        if u32::try_from(text.len()).is_err() {
            return Err(Unsure);
        }
        self.text = text.as_bytes();
        self.source = text;
        let mut active = 0_u32;
        let mut ending = 0_u32;
        for (index, pointer) in self.pointers.iter().take(self.count).enumerate() {
            match pointer.first() {
                // The empty pointer: the whole document.
                None => ending |= 1 << index,
                Some(b'/') => active |= 1 << index,
                // A non-empty pointer without a leading `/` finds nothing.
                Some(_) => {}
            }
        }
        let end = self.value(0, 0, active, ending)?;
        let end = self.skip_space(end);
        if end == self.text.len() {
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    /// The byte at `pos`, or 0 past the end (0 is never valid where a byte is
    /// expected outside a string, and inside one it is a control character).
    #[inline(always)]
    fn at(&self, pos: usize) -> u8 {
        self.text.get(pos).copied().unwrap_or(0)
    }

    /// The first byte at or after `pos` that is no JSON whitespace.
    #[inline(always)]
    fn skip_space(&self, pos: usize) -> usize {
        // Compact JSON has none: one test.
        if CLASS[usize::from(self.at(pos))] & SPACE == 0 {
            pos
        } else {
            self.skip_more_space(pos + 1)
        }
    }

    #[cold]
    #[inline(never)]
    fn skip_more_space(&self, mut pos: usize) -> usize {
        while CLASS[usize::from(self.at(pos))] & SPACE != 0 {
            pos += 1;
        }
        pos
    }

    /// Parses the value starting at `pos` (no whitespace before it) at nesting
    /// `depth`. `active` holds the targets whose next segment applies inside it,
    /// `ending` the targets that point at it. Returns the position after it.
    ///
    /// Inlined into its callers, so that scalars (most values) cost no call;
    /// containers are parsed out of line.
    #[inline(always)]
    fn value(
        &mut self,
        pos: usize,
        depth: usize,
        active: u32,
        ending: u32,
    ) -> Result<usize, Unsure> {
        let (end, kind) = match self.at(pos) {
            b'"' => {
                let (end, escaped) = self.string(pos + 1)?;
                let kind = if escaped {
                    Kind::EscapedString
                } else {
                    Kind::String
                };
                (end, kind)
            }
            b'{' => (self.object(pos + 1, depth + 1, active)?, Kind::Object),
            b'[' => (self.array(pos + 1, depth + 1, active)?, Kind::Array),
            b'n' => (self.literal(pos, b"null")?, Kind::Null),
            b't' => (self.literal(pos, b"true")?, Kind::Bool),
            b'f' => (self.literal(pos, b"false")?, Kind::Bool),
            b'-' | b'0'..=b'9' => (self.number(pos)?, Kind::Number),
            _ => return Err(Unsure),
        };
        if ending != 0 {
            // Both fit: the text's length does (see `run`).
            let span = Span {
                kind: kind as u8,
                start: pos as u32,
                end: end as u32,
            };
            let mut bits = ending;
            while bits != 0 {
                let index = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(slot) = self.found.get_mut(index) {
                    *slot = span;
                }
            }
        }
        Ok(end)
    }

    fn literal(&self, pos: usize, word: &[u8]) -> Result<usize, Unsure> {
        let end = pos + word.len();
        if self.text.get(pos..end) == Some(word) {
            Ok(end)
        } else {
            Err(Unsure)
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`; an exponent or a long number is [`Unsure`].
    fn number(&self, start: usize) -> Result<usize, Unsure> {
        let mut pos = start;
        if self.at(pos) == b'-' {
            pos += 1;
        }
        match self.at(pos) {
            b'0' => pos += 1,
            b'1'..=b'9' => {
                pos += 1;
                while self.at(pos).is_ascii_digit() {
                    pos += 1;
                }
            }
            _ => return Err(Unsure),
        }
        if self.at(pos) == b'.' {
            pos += 1;
            if !self.at(pos).is_ascii_digit() {
                return Err(Unsure);
            }
            while self.at(pos).is_ascii_digit() {
                pos += 1;
            }
        }
        if matches!(self.at(pos), b'e' | b'E') || pos - start > MAX_NUMBER {
            return Err(Unsure);
        }
        Ok(pos)
    }

    /// The first byte at or after `pos` that ends a run of plain string bytes (a
    /// quote, a backslash or a control character), eight bytes at a time. For a
    /// `KEY`, also whether a `/` or `~` was passed on the way.
    #[inline(always)]
    fn skip_plain<const KEY: bool>(&self, mut pos: usize) -> (usize, bool) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        const QUOTES: u64 = ONES * b'"' as u64;
        const BACKSLASHES: u64 = ONES * b'\\' as u64;
        const SPACES: u64 = ONES * 0x20;
        const SLASHES: u64 = ONES * b'/' as u64;
        const TILDES: u64 = ONES * b'~' as u64;
        let mut odd = 0;
        while let Some(chunk) = self.text.get(pos..pos + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let x = u64::from_le_bytes(bytes);
            let quote = x ^ QUOTES;
            let backslash = x ^ BACKSLASHES;
            // The lowest flagged byte of each test is exact (a borrow only flags
            // bytes above a real hit), so the lowest flagged byte overall is the
            // first stop.
            let stops = (quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (x.wrapping_sub(SPACES) & !x);
            let stops = stops & HIGH;
            if KEY {
                let slash = x ^ SLASHES;
                let tilde = x ^ TILDES;
                let found = ((slash.wrapping_sub(ONES) & !slash)
                    | (tilde.wrapping_sub(ONES) & !tilde))
                    & HIGH;
                // Only the bytes before the stop count (a flag above it may
                // also be a borrow's artefact).
                let before = if stops == 0 {
                    u64::MAX
                } else {
                    (stops & stops.wrapping_neg()) - 1
                };
                odd |= found & before;
            }
            if stops != 0 {
                return (pos + (stops.trailing_zeros() / 8) as usize, odd != 0);
            }
            pos += 8;
        }
        loop {
            let byte = self.at(pos);
            if CLASS[usize::from(byte)] & STRING_STOP != 0 {
                return (pos, odd != 0);
            }
            if KEY && (byte == b'/' || byte == b'~') {
                odd = 1;
            }
            pos += 1;
        }
    }

    /// Scans a string whose opening quote is just before `pos`. Returns the
    /// position after the closing quote and whether the string holds an escape.
    #[inline(always)]
    fn string(&self, pos: usize) -> Result<(usize, bool), Unsure> {
        self.string_or_key::<false>(pos)
            .map(|(end, escaped, _)| (end, escaped))
    }

    /// [`Scan::string`], and for a `KEY` also whether it holds `/` or `~` (a key
    /// without either, nor escapes, is plain).
    #[inline(always)]
    fn string_or_key<const KEY: bool>(
        &self,
        mut pos: usize,
    ) -> Result<(usize, bool, bool), Unsure> {
        let mut escaped = false;
        let mut odd = false;
        loop {
            let (stop, odd_run) = self.skip_plain::<KEY>(pos);
            pos = stop;
            odd |= odd_run;
            match self.at(pos) {
                b'"' => return Ok((pos + 1, escaped, odd)),
                b'\\' => {
                    escaped = true;
                    pos = self.escape(pos + 1)?;
                }
                // A control character, or the end of the text.
                _ => return Err(Unsure),
            }
        }
    }

    /// Validates the escape after a backslash at `pos - 1`, as serde_json does for
    /// text (surrogates must pair). Returns the position after it.
    fn escape(&self, pos: usize) -> Result<usize, Unsure> {
        match self.at(pos) {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(pos + 1),
            b'u' => {
                let unit = self.hex4(pos + 1)?;
                match unit {
                    0xD800..=0xDBFF => {
                        if self.at(pos + 5) != b'\\' || self.at(pos + 6) != b'u' {
                            return Err(Unsure);
                        }
                        match self.hex4(pos + 7)? {
                            0xDC00..=0xDFFF => Ok(pos + 11),
                            _ => Err(Unsure),
                        }
                    }
                    0xDC00..=0xDFFF => Err(Unsure),
                    _ => Ok(pos + 5),
                }
            }
            _ => Err(Unsure),
        }
    }

    fn hex4(&self, pos: usize) -> Result<u16, Unsure> {
        let mut unit = 0_u16;
        for offset in 0..4 {
            unit = (unit << 4) | hex(self.at(pos + offset)).ok_or(Unsure)?;
        }
        Ok(unit)
    }

    /// An object whose `{` is just before `pos`; its members are at `depth`.
    #[inline(never)]
    fn object(&mut self, pos: usize, depth: usize, active: u32) -> Result<usize, Unsure> {
        if depth > MAX_DEPTH {
            return Err(Unsure);
        }
        let mut pos = self.skip_space(pos);
        if self.at(pos) == b'}' {
            return Ok(pos + 1);
        }
        // Segment index of this object's keys in the target pointers.
        let level = depth - 1;
        let buckets = self.buckets(level, active)?;
        loop {
            if self.at(pos) != b'"' {
                return Err(Unsure);
            }
            let key_start = pos + 1;
            // Keys where no target is active are only validated.
            let (key_end, escaped, odd) = if active == 0 {
                self.string_or_key::<false>(key_start)?
            } else {
                self.string_or_key::<true>(key_start)?
            };
            pos = self.skip_space(key_end);
            if self.at(pos) != b':' {
                return Err(Unsure);
            }
            pos = self.skip_space(pos + 1);
            let (inner, ending) = if active == 0 {
                (0, 0)
            } else if escaped {
                // The key is not compared decoded: some target might name it.
                return Err(Unsure);
            } else {
                let key = self.text.get(key_start..key_end - 1).ok_or(Unsure)?;
                let candidates = match key.first() {
                    // A segment that decodes to the key starts with the key's first
                    // byte, or with `~` when that byte is `/` or `~`.
                    Some(&first @ (b'/' | b'~')) => buckets[bucket(first)] | buckets[bucket(b'~')],
                    Some(&first) => buckets[bucket(first)],
                    None => active,
                };
                if candidates == 0 {
                    (0, 0)
                } else {
                    self.match_key(key, !odd, level, candidates)?
                }
            };
            pos = self.value(pos, depth, inner, ending)?;
            pos = self.skip_space(pos);
            match self.at(pos) {
                b',' => pos = self.skip_space(pos + 1),
                b'}' => return Ok(pos + 1),
                _ => return Err(Unsure),
            }
        }
    }

    /// The `active` targets by the first byte of their segment `level` (its low five
    /// bits), so that a key is compared only with segments that may equal it.
    fn buckets(&self, level: usize, active: u32) -> Result<[u32; 32], Unsure> {
        let mut buckets = [0_u32; 32];
        let mut bits = active;
        while bits != 0 {
            let index = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let slash = self.slash(index, level)?;
            let pointer = self.pointers.get(index).ok_or(Unsure)?;
            if let Some(&first) = pointer.get(slash + 1) {
                buckets[bucket(first)] |= 1 << index;
            }
        }
        Ok(buckets)
    }

    /// Where the `/` before segment `level` of target `index` is.
    fn slash(&self, index: usize, level: usize) -> Result<usize, Unsure> {
        let slashes = self.slashes.get(index).ok_or(Unsure)?;
        Ok(usize::from(*slashes.get(level).ok_or(Unsure)?))
    }

    /// Records that target `index` matched segment `level`, and where its next
    /// segment is when it goes on. A second match of the same segment is a
    /// duplicate key on the target's path.
    fn descend(&mut self, index: usize, level: usize, next: Option<usize>) -> Result<(), Unsure> {
        let seen = self.seen.get_mut(index).ok_or(Unsure)?;
        let bit = 1_u16 << level;
        if *seen & bit != 0 {
            return Err(Unsure);
        }
        *seen |= bit;
        if let Some(next) = next {
            let slashes = self.slashes.get_mut(index).ok_or(Unsure)?;
            let slot = slashes.get_mut(level + 1).ok_or(Unsure)?;
            *slot = u8::try_from(next).map_err(|_| Unsure)?;
        }
        Ok(())
    }

    /// Which of the `candidates` name `key` as segment `level`: those that go on
    /// inside its value, and those that end at it.
    fn match_key(
        &mut self,
        key: &[u8],
        plain: bool,
        level: usize,
        candidates: u32,
    ) -> Result<(u32, u32), Unsure> {
        let mut inner = 0;
        let mut ending = 0;
        let mut bits = candidates;
        while bits != 0 {
            let index = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let slash = self.slash(index, level)?;
            let pointer = self.pointers.get(index).ok_or(Unsure)?;
            match compare(pointer, slash, key, plain)? {
                Match::No => {}
                Match::Last => {
                    self.descend(index, level, None)?;
                    ending |= 1 << index;
                }
                Match::Inner(next) => {
                    self.descend(index, level, Some(next))?;
                    inner |= 1 << index;
                }
            }
        }
        Ok((inner, ending))
    }

    /// An array whose `[` is just before `pos`; its elements are at `depth`.
    #[inline(never)]
    fn array(&mut self, pos: usize, depth: usize, active: u32) -> Result<usize, Unsure> {
        if depth > MAX_DEPTH {
            return Err(Unsure);
        }
        let mut pos = self.skip_space(pos);
        if self.at(pos) == b']' {
            return Ok(pos + 1);
        }
        let level = depth - 1;
        // The index each active target wants here; targets whose segment is no
        // index find nothing in an array.
        let mut wanted = [usize::MAX; MAX_TARGETS];
        let mut active = active;
        let mut bits = active;
        while bits != 0 {
            let index = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let slash = self.slash(index, level)?;
            let pointer = self.pointers.get(index).ok_or(Unsure)?;
            match index_of(segment(pointer, slash)) {
                Some(at) => wanted[index] = at,
                None => active &= !(1 << index),
            }
        }
        let mut element = 0_usize;
        loop {
            let (mut inner, mut ending) = (0, 0);
            let mut bits = active;
            while bits != 0 {
                let index = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if wanted[index] != element {
                    continue;
                }
                let slash = self.slash(index, level)?;
                let pointer = self.pointers.get(index).ok_or(Unsure)?;
                let next = slash + 1 + segment(pointer, slash).len();
                if next == pointer.len() {
                    self.descend(index, level, None)?;
                    ending |= 1 << index;
                } else {
                    self.descend(index, level, Some(next))?;
                    inner |= 1 << index;
                }
            }
            pos = self.value(pos, depth, inner, ending)?;
            pos = self.skip_space(pos);
            match self.at(pos) {
                b',' => pos = self.skip_space(pos + 1),
                b']' => return Ok(pos + 1),
                _ => return Err(Unsure),
            }
            element += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Found, Kind, MAX_DEPTH, MAX_TARGETS, Scan, Unsure};

    /// Scans `text` for `pointers`; what each one found, as (kind, text).
    fn scan<'a>(
        text: &'a str,
        pointers: &[&'a str],
    ) -> Result<Vec<Option<(Kind, &'a str)>>, Unsure> {
        let mut scan = Scan::new();
        for pointer in pointers {
            scan.target(pointer)?;
        }
        scan.run(text)?;
        pointers
            .iter()
            .map(|p| {
                scan.get(p)
                    .map(|found| found.map(|Found { kind, text }| (kind, text)))
            })
            .collect()
    }

    fn one<'a>(text: &'a str, pointer: &'a str) -> Result<Option<(Kind, &'a str)>, Unsure> {
        scan(text, &[pointer]).map(|mut found| found.remove(0))
    }

    const PLAIN: Kind = Kind::String;
    const ESCAPED: Kind = Kind::EscapedString;

    #[test]
    fn spans_of_nested_pointers() {
        let doc = r#"{"a":{"b":[1,{"c":"x"},[true,false]],"e":-2.5},"d":null,"s":"q\"r"}"#;
        let found = scan(
            doc,
            &[
                "/a/b/1/c", "/a", "/a/b", "/a/b/0", "/a/b/2/1", "/a/e", "/d", "/s", "/missing",
                "/a/b/3", "/a/e/x", "/d/x",
            ],
        )
        .expect("sure");
        assert_eq!(
            found,
            vec![
                Some((PLAIN, r#""x""#)),
                Some((Kind::Object, r#"{"b":[1,{"c":"x"},[true,false]],"e":-2.5}"#)),
                Some((Kind::Array, r#"[1,{"c":"x"},[true,false]]"#)),
                Some((Kind::Number, "1")),
                Some((Kind::Bool, "false")),
                Some((Kind::Number, "-2.5")),
                Some((Kind::Null, "null")),
                Some((ESCAPED, r#""q\"r""#)),
                None,
                None,
                None,
                None,
            ]
        );
    }

    #[test]
    fn whitespace_and_pretty_printing() {
        let doc = "{ \"a\" :\n\t[ 1 ,\r\n {\"b\" : \"c\" } ] ,\"z\":{ } , \"y\" : [ ] }";
        assert_eq!(one(doc, "/a/1/b"), Ok(Some((PLAIN, r#""c""#))));
        assert_eq!(one(doc, "/z"), Ok(Some((Kind::Object, "{ }"))));
        assert_eq!(one(doc, "/y"), Ok(Some((Kind::Array, "[ ]"))));
        // Form feed is no JSON whitespace.
        assert_eq!(one("{\"a\":\x0c1}", "/a"), Err(Unsure));
    }

    #[test]
    fn the_empty_pointer_is_the_whole_document() {
        assert_eq!(
            one(r#"{"a":1}"#, ""),
            Ok(Some((Kind::Object, r#"{"a":1}"#)))
        );
        assert_eq!(one(r#""s""#, ""), Ok(Some((PLAIN, r#""s""#))));
        assert_eq!(one("7", ""), Ok(Some((Kind::Number, "7"))));
        assert_eq!(one("null", ""), Ok(Some((Kind::Null, "null"))));
        // `/` is the key "" of the top object.
        assert_eq!(one(r#"{"":2}"#, "/"), Ok(Some((Kind::Number, "2"))));
        assert_eq!(one(r#"{"a":{"":3}}"#, "/a/"), Ok(Some((Kind::Number, "3"))));
        // A pointer without its leading slash finds nothing.
        assert_eq!(one(r#"{"a":1}"#, "a"), Ok(None));
    }

    #[test]
    fn array_indices_follow_the_pointer_rules() {
        let doc = r#"{"l":[10,11,12,13,14,15,16,17,18,19,20],"o":{"01":1,"+1":2,"-":3}}"#;
        assert_eq!(one(doc, "/l/0"), Ok(Some((Kind::Number, "10"))));
        assert_eq!(one(doc, "/l/10"), Ok(Some((Kind::Number, "20"))));
        for missing in ["/l/01", "/l/+1", "/l/-", "/l/11", "/l/", "/l/x", "/l/1e1"] {
            assert_eq!(one(doc, missing), Ok(None), "{missing}");
        }
        // In an object the same segments are keys.
        assert_eq!(one(doc, "/o/01"), Ok(Some((Kind::Number, "1"))));
        assert_eq!(one(doc, "/o/+1"), Ok(Some((Kind::Number, "2"))));
        assert_eq!(one(doc, "/o/-"), Ok(Some((Kind::Number, "3"))));
        assert_eq!(
            one(r#"[[1,[2,3]]]"#, "/0/1/1"),
            Ok(Some((Kind::Number, "3")))
        );
    }

    #[test]
    fn a_duplicate_key_on_a_path_is_unsure() {
        assert_eq!(one(r#"{"a":1,"a":2}"#, "/a"), Err(Unsure));
        // Earlier on the path: serde_json keeps the second `a`, without `x`.
        assert_eq!(one(r#"{"a":{"x":1},"a":{"y":2}}"#, "/a/x"), Err(Unsure));
        assert_eq!(one(r#"{"a":{"x":1,"x":2}}"#, "/a/x"), Err(Unsure));
        // Duplicates nobody looks at are fine.
        assert_eq!(
            one(r#"{"b":1,"b":2,"a":3}"#, "/a"),
            Ok(Some((Kind::Number, "3")))
        );
        assert_eq!(
            one(r#"{"a":{"y":1,"y":2,"x":3}}"#, "/a/x"),
            Ok(Some((Kind::Number, "3")))
        );
        // The same object met again through an array index is no duplicate.
        assert_eq!(
            one(r#"[{"a":1},{"a":2}]"#, "/1/a"),
            Ok(Some((Kind::Number, "2")))
        );
        // Two targets through the same key are no duplicate either.
        assert_eq!(
            scan(r#"{"p":{"a":1,"b":2}}"#, &["/p/a", "/p/b", "/p"]).map(|f| f.len()),
            Ok(3)
        );
    }

    #[test]
    fn escaped_and_odd_keys() {
        // An escaped key where a target might name it: the scan does not decode.
        assert_eq!(one(r#"{"\u0061":1}"#, "/a"), Err(Unsure));
        assert_eq!(one(r#"{"x\n":1,"a":2}"#, "/a"), Err(Unsure));
        // Elsewhere it is only validated.
        assert_eq!(
            one(r#"{"o":{"\u0061":1},"a":2}"#, "/a"),
            Ok(Some((Kind::Number, "2")))
        );
        assert_eq!(one(r#"{"o":{"\x":1},"a":2}"#, "/a"), Err(Unsure));
        // A key holding `/` is not two segments.
        assert_eq!(one(r#"{"a/b":1}"#, "/a/b"), Ok(None));
        assert_eq!(
            one(r#"{"a":{"b":5},"a/b":1}"#, "/a/b"),
            Ok(Some((Kind::Number, "5")))
        );
        // `~` escapes in a pointer are left to the tree when a key may match them.
        assert_eq!(one(r#"{"a/b":1}"#, "/a~1b"), Err(Unsure));
        assert_eq!(one(r#"{"a~b":1}"#, "/a~0b"), Err(Unsure));
        assert_eq!(one(r#"{"x":1}"#, "/a~1b"), Ok(None));
        // Wherever the `/` or `~` is in a long key (the scan reads eight bytes at
        // a time), the key is not taken for the raw pointer text.
        for at in 0..20 {
            let key = format!("{}/{}", "k".repeat(at), "b".repeat(at % 5));
            let doc = format!(r#"{{"{key}":1,"z":2}}"#);
            assert_eq!(one(&doc, &format!("/{key}")), Ok(None), "{key}");
            let key = format!("{}~1{}", "k".repeat(at), "b".repeat(at % 5));
            let doc = format!(r#"{{"{key}":1,"z":2}}"#);
            assert_eq!(one(&doc, &format!("/{key}")), Err(Unsure), "{key}");
        }
        // Keys and values with non-ASCII text compare as bytes.
        assert_eq!(one(r#"{"ü":"ß"}"#, "/ü"), Ok(Some((PLAIN, r#""ß""#))));
    }

    #[test]
    fn string_escapes_are_validated_exactly() {
        for good in [
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u0000\u00e9\uFFFF""#,
            r#""\ud83d\ude00""#,
            r#""\uD83D\uDE00 tail""#,
        ] {
            assert_eq!(one(good, ""), Ok(Some((ESCAPED, good))), "{good}");
        }
        for bad in [
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\ud800\u0041""#,
            r#""\ud800\ud800""#,
            r#""\udc00""#,
            r#""\"#,
            "\"a\u{1}b\"",
            "\"tab\there\"",
            "\"unterminated",
        ] {
            assert_eq!(one(bad, ""), Err(Unsure), "{bad}");
        }
        // A long string crosses the eight-byte steps; the quote may be anywhere.
        for len in 0..40 {
            let text = format!("[\"{}\",1]", "y".repeat(len));
            assert_eq!(one(&text, "/1"), Ok(Some((Kind::Number, "1"))), "{len}");
            let text = format!("[\"{}\\\"\",1]", "y".repeat(len));
            assert_eq!(one(&text, "/1"), Ok(Some((Kind::Number, "1"))), "{len}");
        }
    }

    #[test]
    fn numbers_serde_json_might_read_otherwise_are_unsure() {
        for good in [
            "0",
            "-0",
            "12",
            "-12",
            "1.5",
            "-0.25",
            "123456789012345678901234567890",
        ] {
            assert_eq!(one(good, ""), Ok(Some((Kind::Number, good))), "{good}");
        }
        let long = format!("1{}", "0".repeat(super::MAX_NUMBER));
        for unsure in [
            "1e5", "1E5", "1.5e-3", "1e400", "01", "-", "-a", "1.", ".5", "+1", "0x1", "1.e3",
            &long,
        ] {
            assert_eq!(one(unsure, ""), Err(Unsure), "{unsure}");
        }
    }

    #[test]
    fn invalid_json_is_unsure() {
        for bad in [
            "",
            "{",
            "}",
            "[",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "[1 2]",
            "tru",
            "nul",
            "falsy",
            "{\"a\":1}}",
            "[] ]",
            "{} x",
            "1 2",
            "\"a\" \"b\"",
            "{'a':1}",
            "[1,2",
            "{\"a\":[}",
            "{\"a\":1]",
        ] {
            assert_eq!(one(bad, "/a"), Err(Unsure), "{bad:?}");
        }
        // Trailing JSON whitespace is fine.
        assert_eq!(one("{\"a\":1} \n\t\r", "/a"), Ok(Some((Kind::Number, "1"))));
    }

    #[test]
    fn deep_nesting_is_left_to_serde_json() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            one(&nested(MAX_DEPTH), "/0"),
            Ok(Some((Kind::Array, &*nested(MAX_DEPTH - 1))))
        );
        assert_eq!(one(&nested(MAX_DEPTH + 1), "/0"), Err(Unsure));
        assert_eq!(one(&nested(100_000), "/0"), Err(Unsure));
        let objects = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let path = "/a".repeat(10);
        assert!(one(&objects(MAX_DEPTH), &path).is_ok());
        assert_eq!(one(&objects(MAX_DEPTH + 1), &path), Err(Unsure));
    }

    #[test]
    fn pointers_the_scan_does_not_follow() {
        // Too many targets.
        let mut scan = Scan::new();
        for _ in 0..MAX_TARGETS {
            assert_eq!(scan.target("/a"), Ok(()));
        }
        assert_eq!(scan.target("/a"), Err(Unsure));
        // A pointer deeper than the scan follows, once it gets that deep.
        let deep = "/a".repeat(20);
        let doc = format!("{}1{}", "{\"a\":".repeat(20), "}".repeat(20));
        assert_eq!(one(&doc, &deep), Err(Unsure));
        assert_eq!(one("{\"b\":1}", &deep), Ok(None));
        // Asking for a pointer that was no target is a mistake, not an absence.
        let mut scan = Scan::new();
        assert_eq!(scan.target("/a"), Ok(()));
        assert_eq!(scan.run("{}"), Ok(()));
        assert_eq!(scan.get("/a"), Ok(None));
        assert_eq!(scan.get("/b"), Err(Unsure));
    }
}
