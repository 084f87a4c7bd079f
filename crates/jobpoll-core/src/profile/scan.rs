//! A single-pass, allocation-free JSON scanner that finds the values a few JSON
//! pointers point to, without building a `serde_json::Value`.
//!
//! The pointers are compiled once into a [`Plan`]: a tree of their segments, so
//! that at each object the scan compares a key only with the segments that apply
//! there (by length and first eight bytes, then the rest). [`Plan::run`] validates
//! the whole document while it walks it and records, for each pointer, the text of
//! the value the pointer reaches and what kind of value it is. It answers [`Unsure`]
//! whenever it cannot promise that `serde_json::from_str::<Value>` followed by an
//! RFC 6901 lookup would give the same value: on invalid JSON of any kind, on the
//! few valid inputs serde_json may refuse or read in a way this scanner does not
//! model (numbers with an exponent or longer than [`MAX_NUMBER`] bytes, nesting
//! deeper than [`MAX_DEPTH`]), on a key that occurs twice on a pointer's path
//! (serde_json keeps the last one), on an escaped key where a pointer could name
//! it, and on pointers it does not follow (more than [`MAX_TARGETS`] pointers, a
//! `~` escape in a segment a key may match, pointers over 255 bytes or deeper than
//! 16 segments). The caller then takes the slow path, which gives the exact
//! answer, error included.
//!
//! Keys are compared with the raw pointer text, without decoding `~0` and `~1`: a
//! key without escapes, `/` or `~` equals a decoded segment exactly when it equals
//! the raw one, and other keys are compared byte by byte up to the segment's first
//! `~`, where the scan gives up.

/// The scanner cannot promise serde_json's answer: use the full parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unsure;

/// Pointers one plan can look for.
pub(crate) const MAX_TARGETS: usize = 32;
/// Segments a pointer may have for the scan to follow it.
const MAX_SEGMENTS: usize = 16;
/// Bytes one pointer may have.
const MAX_POINTER: usize = 255;
/// Containers nested deeper than this are left to serde_json (whose limit is 128).
pub(crate) const MAX_DEPTH: usize = 100;
/// Numbers longer than this are left to serde_json (which refuses numbers beyond
/// `f64`; without an exponent, 100 digits stay far below `f64::MAX`).
pub(crate) const MAX_NUMBER: usize = 100;

/// Nodes a plan may have: the root and one per segment followed.
const MAX_NODES: usize = MAX_TARGETS * MAX_SEGMENTS + 1;
/// Words of the bit set of matched nodes.
const SEEN_WORDS: usize = MAX_NODES.div_ceil(64);
/// No node: a value no pointer goes through.
const NO_NODE: u16 = u16::MAX;
/// No slot: a pointer that never finds a value, or a node no pointer ends at.
pub(crate) const NO_SLOT: u8 = u8::MAX;

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
    fn from_u8(kind: u8) -> Option<Kind> {
        Some(match kind {
            1 => Kind::Null,
            2 => Kind::Bool,
            3 => Kind::Number,
            4 => Kind::String,
            5 => Kind::EscapedString,
            6 => Kind::Object,
            7 => Kind::Array,
            _ => return None,
        })
    }
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

/// A segment without `~` that leads from one node to another: a key in an object,
/// or an index in an array when it is one.
#[derive(Clone, Debug)]
struct Edge {
    /// The segment's first eight bytes (fewer, zero-padded, when it is shorter),
    /// little-endian.
    prefix: u64,
    /// The segment's length.
    len: usize,
    /// Where the segment starts in [`Plan::bytes`].
    start: usize,
    /// The array index the segment names, by the rules of `json_pointer`.
    index: Option<usize>,
    /// The node the segment leads to.
    child: u16,
}

/// A point of the plan: a pointer prefix that some pointers go through or end at.
#[derive(Clone, Debug)]
struct Node {
    /// Its edges in [`Plan::edges`].
    edges: (u16, u16),
    /// Where its hash table of edges starts in [`Plan::table`], and the table's
    /// size as a power of two (0 when it has no edges).
    table: (u32, u32),
    /// Its `~` prefixes in [`Plan::tildes`]: the text of segments with a `~`, up to
    /// the first `~` (the scan does not decode them).
    tildes: (u16, u16),
    /// The slot of the pointers that end here, or [`NO_SLOT`].
    slot: u8,
    /// Some pointer goes on below this node beyond [`MAX_SEGMENTS`]: reaching it
    /// is [`Unsure`].
    too_deep: bool,
}

/// A node while the plan is built.
#[derive(Default)]
struct Building {
    /// (start, len) in the bytes, and the child node.
    edges: Vec<(usize, usize, u16)>,
    /// (start, len) of `~` prefixes.
    tildes: Vec<(usize, usize)>,
    slot: Option<u8>,
    too_deep: bool,
}

/// A set of pointers compiled for scanning. Built once, run on many documents.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The pointers' text, one after the other: segments are slices of it.
    bytes: Vec<u8>,
    /// Node 0 is the document.
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// Each node's edges by [`hash`] of their prefix and length, open addressing:
    /// an edge's index plus one, or 0 for an empty place.
    table: Vec<u16>,
    /// (start, len) in `bytes`.
    tildes: Vec<(usize, usize)>,
    /// The slot of each pointer, in the order given, or [`NO_SLOT`] for pointers
    /// that never find a value.
    targets: Vec<u8>,
}

/// The values one run of a plan found, by slot.
pub(crate) struct Spans<'a> {
    found: [Span; MAX_TARGETS],
    source: &'a str,
}

impl<'a> Spans<'a> {
    /// Nothing found yet in `source`, for [`Plan::run`] to fill in place (the
    /// spans are 384 bytes: not copied out of the run).
    pub(crate) fn new(source: &'a str) -> Spans<'a> {
        Spans {
            found: [Span::default(); MAX_TARGETS],
            source,
        }
    }

    /// What the scan found at `slot` (a slot from [`Plan::slot`]): `Ok(None)` when
    /// the pointer reaches no value.
    pub(crate) fn get(&self, slot: u8) -> Result<Option<Found<'a>>, Unsure> {
        if slot == NO_SLOT {
            return Ok(None);
        }
        let span = self.found.get(usize::from(slot)).ok_or(Unsure)?;
        if span.kind == 0 {
            return Ok(None);
        }
        let kind = Kind::from_u8(span.kind).ok_or(Unsure)?;
        let range = span.start as usize..span.end as usize;
        let text = self.source.get(range).ok_or(Unsure)?;
        Ok(Some(Found { kind, text }))
    }
}

/// Where a key or segment of this prefix and length goes in a table of `bits` bits
/// (at least 1).
#[inline(always)]
fn hash(prefix: u64, len: usize, bits: u32) -> usize {
    let mixed = (prefix.wrapping_add(len as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - bits)) as usize
}

/// The eight bytes at `at` of `bytes`, little-endian (0 past the end).
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(chunk) => {
            let mut word = [0_u8; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        }
        None => 0,
    }
}

/// `a == b`, eight bytes at a time: inlined, for the short texts of keys and
/// pointers, where a call to `memcmp` costs more than the comparison.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return same_short(a, b);
    }
    let mut at = 0;
    while at + 8 < len {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    // The last eight bytes, overlapping the ones compared before.
    word(a, len - 8) == word(b, len - 8)
}

/// `a.eq_ignore_ascii_case(b)`, eight bytes at a time (the byte-wise version
/// costs about 17 instructions a byte: a status value is compared on every read).
pub(crate) fn same_ignoring_ascii_case(a: &[u8], b: &[u8]) -> bool {
    /// The word with its ASCII capitals made small; other bytes unchanged.
    fn fold(x: u64) -> u64 {
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let low = x & !HIGH;
        // Per byte, the high bit: above `Z`, and at or above `A` (no carries
        // cross bytes, as each byte's low seven bits plus the constant stay
        // below 0x100).
        let above_z = low + 0x2525_2525_2525_2525;
        let from_a = low + 0x3f3f_3f3f_3f3f_3f3f;
        let capital = (from_a ^ above_z) & !x & HIGH;
        x | (capital >> 2)
    }
    fn word4(bytes: &[u8], at: usize) -> u64 {
        match bytes.get(at..at + 4) {
            Some(&[b0, b1, b2, b3]) => u64::from(u32::from_le_bytes([b0, b1, b2, b3])),
            _ => 0,
        }
    }
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 4 {
        return a.eq_ignore_ascii_case(b);
    }
    if len < 8 {
        return fold(word4(a, 0)) == fold(word4(b, 0))
            && fold(word4(a, len - 4)) == fold(word4(b, len - 4));
    }
    let mut at = 0;
    while at + 8 < len {
        if fold(word(a, at)) != fold(word(b, at)) {
            return false;
        }
        at += 8;
    }
    fold(word(a, len - 8)) == fold(word(b, len - 8))
}

/// `a == b` for two slices of the same length below 8, without `memcmp`: two
/// overlapping four-byte words from 4 bytes up, else byte by byte.
#[inline(always)]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    fn word4(bytes: &[u8], at: usize) -> u32 {
        match bytes.get(at..at + 4) {
            Some(&[b0, b1, b2, b3]) => u32::from_le_bytes([b0, b1, b2, b3]),
            _ => 0,
        }
    }
    let len = a.len();
    if len >= 4 {
        word4(a, 0) == word4(b, 0) && word4(a, len - 4) == word4(b, len - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// The segment's first eight bytes, zero-padded, little-endian.
fn prefix_of(segment: &[u8]) -> u64 {
    let mut word = [0_u8; 8];
    for (slot, &byte) in word.iter_mut().zip(segment) {
        *slot = byte;
    }
    u64::from_le_bytes(word)
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

impl Plan {
    /// Compiles `pointers`; [`Unsure`] when there are more than [`MAX_TARGETS`] or
    /// one is longer than the scanner follows.
    pub(crate) fn new<'p>(pointers: impl IntoIterator<Item = &'p str>) -> Result<Plan, Unsure> {
        let mut bytes = Vec::new();
        let mut building = vec![Building::default()];
        let mut slots = 0_u8;
        let mut targets = Vec::new();
        for pointer in pointers {
            if targets.len() >= MAX_TARGETS || pointer.len() > MAX_POINTER {
                return Err(Unsure);
            }
            let base = bytes.len();
            bytes.extend_from_slice(pointer.as_bytes());
            let slot = Self::insert(&mut building, &bytes, base, pointer.as_bytes(), &mut slots)?;
            targets.push(slot);
        }
        let mut nodes = Vec::with_capacity(building.len());
        let mut edges = Vec::new();
        let mut table = Vec::new();
        let mut tildes = Vec::new();
        for node in building {
            let first_edge = u16::try_from(edges.len()).map_err(|_| Unsure)?;
            // At most half full, so that a probe soon meets an empty place.
            let bits = if node.edges.is_empty() {
                0
            } else {
                (node.edges.len() * 2)
                    .next_power_of_two()
                    .trailing_zeros()
                    .max(1)
            };
            let table_start = table.len();
            table.resize(table_start + (1 << bits), 0);
            for (start, len, child) in node.edges {
                let segment = bytes.get(start..start + len).ok_or(Unsure)?;
                let prefix = prefix_of(segment);
                let mut at = hash(prefix, len, bits);
                while table.get(table_start + at).is_some_and(|&e| e != 0) {
                    at = (at + 1) & ((1 << bits) - 1);
                }
                let entry = u16::try_from(edges.len() + 1).map_err(|_| Unsure)?;
                *table.get_mut(table_start + at).ok_or(Unsure)? = entry;
                edges.push(Edge {
                    prefix,
                    len,
                    start,
                    index: index_of(segment),
                    child,
                });
            }
            let first_tilde = u16::try_from(tildes.len()).map_err(|_| Unsure)?;
            tildes.extend(node.tildes);
            nodes.push(Node {
                edges: (first_edge, u16::try_from(edges.len()).map_err(|_| Unsure)?),
                table: (u32::try_from(table_start).map_err(|_| Unsure)?, bits),
                tildes: (
                    first_tilde,
                    u16::try_from(tildes.len()).map_err(|_| Unsure)?,
                ),
                slot: node.slot.unwrap_or(NO_SLOT),
                too_deep: node.too_deep,
            });
        }
        Ok(Plan {
            bytes,
            nodes,
            edges,
            table,
            tildes,
            targets,
        })
    }

    /// Adds one pointer (whose text is at `base` in `bytes`) to the tree; its slot.
    fn insert(
        building: &mut Vec<Building>,
        bytes: &[u8],
        base: usize,
        pointer: &[u8],
        slots: &mut u8,
    ) -> Result<u8, Unsure> {
        let mut node = 0_usize;
        if !pointer.is_empty() {
            // A non-empty pointer without a leading `/` finds nothing.
            if pointer.first() != Some(&b'/') {
                return Ok(NO_SLOT);
            }
            let mut start = 1;
            for (depth, segment) in pointer
                .get(1..)
                .unwrap_or(b"")
                .split(|&b| b == b'/')
                .enumerate()
            {
                let count = building.len();
                let here = building.get_mut(node).ok_or(Unsure)?;
                if depth == MAX_SEGMENTS {
                    here.too_deep = true;
                    return Ok(NO_SLOT);
                }
                let at = base + start;
                start += segment.len() + 1;
                if let Some(tilde) = segment.iter().position(|&b| b == b'~') {
                    // Never followed: a key that may equal it is unsure.
                    if !here
                        .tildes
                        .iter()
                        .any(|&(s, l)| bytes.get(s..s + l) == segment.get(..tilde))
                    {
                        here.tildes.push((at, tilde));
                    }
                    return Ok(NO_SLOT);
                }
                let existing = here
                    .edges
                    .iter()
                    .find(|&&(s, l, _)| bytes.get(s..s + l) == Some(segment))
                    .map(|&(_, _, child)| child);
                node = match existing {
                    Some(child) => usize::from(child),
                    None => {
                        let child = count;
                        if child >= MAX_NODES {
                            return Err(Unsure);
                        }
                        let id = u16::try_from(child).map_err(|_| Unsure)?;
                        here.edges.push((at, segment.len(), id));
                        building.push(Building::default());
                        child
                    }
                };
            }
        }
        let end = building.get_mut(node).ok_or(Unsure)?;
        match end.slot {
            Some(slot) => Ok(slot),
            None => {
                let slot = *slots;
                end.slot = Some(slot);
                *slots += 1;
                Ok(slot)
            }
        }
    }

    /// The slot of pointer `target` (its place in the list the plan was built from),
    /// for [`Spans::get`]; [`NO_SLOT`] when there is no such pointer.
    pub(crate) fn slot(&self, target: usize) -> u8 {
        self.targets.get(target).copied().unwrap_or(NO_SLOT)
    }

    /// Scans `spans`' source, a whole JSON document without leading whitespace,
    /// recording in `spans` what every pointer points to. After [`Unsure`] the
    /// spans mean nothing.
    pub(crate) fn run(&self, spans: &mut Spans<'_>) -> Result<(), Unsure> {
        let text = spans.source;
        // Spans are stored as `u32`.
        if u32::try_from(text.len()).is_err() {
            return Err(Unsure);
        }
        let mut run = Run {
            plan: self,
            text: text.as_bytes(),
            seen: [0; SEEN_WORDS],
            found: &mut spans.found,
        };
        let end = run.value(0, 0, 0)?;
        let end = run.skip_space(end);
        if end == text.len() {
            Ok(())
        } else {
            Err(Unsure)
        }
    }
}

/// Byte classes.
const PLAIN: u8 = 0;
/// JSON whitespace (space, tab, line feed, carriage return).
const SPACE: u8 = 2;

static CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    table[b' ' as usize] = SPACE;
    table[b'\t' as usize] = SPACE;
    table[b'\n' as usize] = SPACE;
    table[b'\r' as usize] = SPACE;
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

/// One run of a plan over one text.
struct Run<'p, 'a, 's> {
    plan: &'p Plan,
    text: &'a [u8],
    /// Bit `n`: node `n` was reached (a second time is a duplicate key).
    seen: [u64; SEEN_WORDS],
    found: &'s mut [Span; MAX_TARGETS],
}

impl Run<'_, '_, '_> {
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
        if self.at(pos) > b' ' {
            pos
        } else {
            self.skip_more_space(pos)
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

    /// Marks `node` reached: [`Unsure`] when it was before (a duplicate key on a
    /// pointer's path) or when a pointer goes on below it deeper than the scan
    /// follows.
    fn reach(&mut self, node: u16) -> Result<(), Unsure> {
        let index = usize::from(node);
        let word = self.seen.get_mut(index / 64).ok_or(Unsure)?;
        let bit = 1_u64 << (index % 64);
        if *word & bit != 0 {
            return Err(Unsure);
        }
        *word |= bit;
        if self.plan.nodes.get(index).ok_or(Unsure)?.too_deep {
            return Err(Unsure);
        }
        Ok(())
    }

    /// Parses the value starting at `pos` (no whitespace before it) at nesting
    /// `depth`; `node` is the plan's node for it, or [`NO_NODE`]. Returns the
    /// position after it.
    ///
    /// Inlined into its callers, so that scalars (most values) cost no call;
    /// containers are parsed out of line.
    #[inline(always)]
    fn value(&mut self, pos: usize, depth: usize, node: u16) -> Result<usize, Unsure> {
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
            b'{' => (self.object(pos + 1, depth + 1, node)?, Kind::Object),
            b'[' => (self.array(pos + 1, depth + 1, node)?, Kind::Array),
            b'n' => (self.literal(pos, *b"null")?, Kind::Null),
            b't' => (self.literal(pos, *b"true")?, Kind::Bool),
            b'f' => (self.literal(pos, *b"false")?, Kind::Bool),
            b'-' | b'0'..=b'9' => (self.number(pos)?, Kind::Number),
            _ => return Err(Unsure),
        };
        if node != NO_NODE {
            self.record(node, pos, end, kind);
        }
        Ok(end)
    }

    /// Records the value at `start..end` for the pointers that end at `node`.
    fn record(&mut self, node: u16, start: usize, end: usize, kind: Kind) {
        let slot = self
            .plan
            .nodes
            .get(usize::from(node))
            .map_or(NO_SLOT, |n| n.slot);
        if let Some(found) = self.found.get_mut(usize::from(slot)) {
            // Both fit: the text's length does (see `Plan::run`).
            *found = Span {
                kind: kind as u8,
                start: start as u32,
                end: end as u32,
            };
        }
    }

    #[inline(always)]
    fn literal<const N: usize>(&self, pos: usize, word: [u8; N]) -> Result<usize, Unsure> {
        let end = pos + N;
        if self.text.get(pos..end) == Some(&word[..]) {
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
    /// quote, a backslash or a control character), eight bytes at a time.
    #[inline(always)]
    fn skip_plain(&self, mut pos: usize) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        const QUOTES: u64 = ONES * b'"' as u64;
        const BACKSLASHES: u64 = ONES * b'\\' as u64;
        const SPACES: u64 = ONES * 0x20;
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
            if stops != 0 {
                return pos + (stops.trailing_zeros() / 8) as usize;
            }
            pos += 8;
        }
        loop {
            let byte = self.at(pos);
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                return pos;
            }
            pos += 1;
        }
    }

    /// Scans a string whose opening quote is just before `pos`. Returns the
    /// position after the closing quote and whether the string holds an escape.
    #[inline(always)]
    fn string(&self, mut pos: usize) -> Result<(usize, bool), Unsure> {
        let mut escaped = false;
        loop {
            pos = self.skip_plain(pos);
            match self.at(pos) {
                b'"' => return Ok((pos + 1, escaped)),
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

    /// An object whose `{` is just before `pos`; its members are at `depth`, and
    /// `node` is the plan's node for it (or [`NO_NODE`]).
    #[inline(never)]
    fn object(&mut self, pos: usize, depth: usize, node: u16) -> Result<usize, Unsure> {
        if depth > MAX_DEPTH {
            return Err(Unsure);
        }
        let plan = self.plan;
        let (table, bits, tildes) = match plan.nodes.get(usize::from(node)) {
            Some(n) => {
                let start = n.table.0 as usize;
                (
                    plan.table
                        .get(start..start + (1 << n.table.1))
                        .unwrap_or(&[]),
                    n.table.1,
                    plan.tildes
                        .get(usize::from(n.tildes.0)..usize::from(n.tildes.1))
                        .unwrap_or(&[]),
                )
            }
            None => (&[][..], 0, &[][..]),
        };
        // Keys where no pointer goes on are only validated.
        let follow = bits != 0 || !tildes.is_empty();
        let mut pos = self.skip_space(pos);
        if self.at(pos) == b'}' {
            return Ok(pos + 1);
        }
        loop {
            if self.at(pos) != b'"' {
                return Err(Unsure);
            }
            let key_start = pos + 1;
            let (key_end, escaped) = self.string(key_start)?;
            let child = if !follow {
                NO_NODE
            } else if escaped {
                // The key is not compared decoded: some pointer might name it.
                return Err(Unsure);
            } else {
                self.match_key(table, bits, tildes, key_start, key_end - 1)?
            };
            pos = self.skip_space(key_end);
            if self.at(pos) != b':' {
                return Err(Unsure);
            }
            pos = self.skip_space(pos + 1);
            pos = self.value(pos, depth, child)?;
            pos = self.skip_space(pos);
            match self.at(pos) {
                b',' => pos = self.skip_space(pos + 1),
                b'}' => return Ok(pos + 1),
                _ => return Err(Unsure),
            }
        }
    }

    /// The node the key at `start..end` (without escapes) leads to by the edges in
    /// `table` (of `bits` bits, 0 for none), or [`NO_NODE`]; [`Unsure`] when it
    /// may equal a segment with a `~`, or is a duplicate on a pointer's path.
    #[inline(always)]
    fn match_key(
        &mut self,
        table: &[u16],
        bits: u32,
        tildes: &[(usize, usize)],
        start: usize,
        end: usize,
    ) -> Result<u16, Unsure> {
        let len = end - start;
        let prefix = match self.text.get(start..start + 8) {
            Some(chunk) => {
                let mut word = [0_u8; 8];
                word.copy_from_slice(chunk);
                let word = u64::from_le_bytes(word);
                if len >= 8 {
                    word
                } else {
                    word & !(u64::MAX << (8 * len))
                }
            }
            None => prefix_of(self.text.get(start..end).ok_or(Unsure)?),
        };
        if bits != 0 {
            let mask = (1 << bits) - 1;
            let mut at = hash(prefix, len, bits);
            while let Some(&entry) = table.get(at)
                && entry != 0
            {
                let edge = self.plan.edges.get(usize::from(entry) - 1).ok_or(Unsure)?;
                if edge.len == len
                    && edge.prefix == prefix
                    && (len <= 8
                        || same_bytes(
                            self.text.get(start..end).unwrap_or(&[]),
                            self.plan
                                .bytes
                                .get(edge.start..edge.start + len)
                                .unwrap_or(&[]),
                        ))
                {
                    // Segments differ: no other edge can match.
                    self.reach(edge.child)?;
                    return Ok(edge.child);
                }
                at = (at + 1) & mask;
            }
        }
        if !tildes.is_empty() {
            self.match_tildes(tildes, start, end)?;
        }
        Ok(NO_NODE)
    }

    /// [`Unsure`] when the key at `start..end` may equal a segment with a `~`: it
    /// holds `/` or `~` and starts with the segment's text before its first `~`
    /// (a key without either cannot equal a segment whose escapes decode to one).
    #[cold]
    fn match_tildes(
        &self,
        tildes: &[(usize, usize)],
        start: usize,
        end: usize,
    ) -> Result<(), Unsure> {
        let key = self.text.get(start..end).ok_or(Unsure)?;
        if !key.iter().any(|&b| b == b'/' || b == b'~') {
            return Ok(());
        }
        for &(at, len) in tildes {
            if key.get(..len).is_some() && key.get(..len) == self.plan.bytes.get(at..at + len) {
                return Err(Unsure);
            }
        }
        Ok(())
    }

    /// An array whose `[` is just before `pos`; its elements are at `depth`, and
    /// `node` is the plan's node for it (or [`NO_NODE`]).
    #[inline(never)]
    fn array(&mut self, pos: usize, depth: usize, node: u16) -> Result<usize, Unsure> {
        if depth > MAX_DEPTH {
            return Err(Unsure);
        }
        let plan = self.plan;
        let edges = match plan.nodes.get(usize::from(node)) {
            Some(n) => plan
                .edges
                .get(usize::from(n.edges.0)..usize::from(n.edges.1))
                .unwrap_or(&[]),
            None => &[],
        };
        let mut pos = self.skip_space(pos);
        if self.at(pos) == b']' {
            return Ok(pos + 1);
        }
        let mut element = 0_usize;
        loop {
            let mut child = NO_NODE;
            // Segments that are no index find nothing in an array.
            if let Some(edge) = edges.iter().find(|edge| edge.index == Some(element)) {
                self.reach(edge.child)?;
                child = edge.child;
            }
            pos = self.value(pos, depth, child)?;
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

/// A scan set up pointer by pointer, as the tests use it: the pointers are
/// compiled when it runs.
#[cfg(test)]
pub(crate) struct Scan<'p, 'a> {
    pointers: Vec<&'p str>,
    plan: Option<Plan>,
    spans: Option<Spans<'a>>,
}

#[cfg(test)]
impl<'p, 'a> Scan<'p, 'a> {
    /// A scan with no targets yet.
    pub(crate) fn new() -> Scan<'p, 'a> {
        Scan {
            pointers: Vec::new(),
            plan: None,
            spans: None,
        }
    }

    /// Adds a target pointer; [`Unsure`] when there are too many or it is one this
    /// scanner does not handle.
    pub(crate) fn target(&mut self, pointer: &'p str) -> Result<(), Unsure> {
        if pointer.len() > MAX_POINTER || self.pointers.len() >= MAX_TARGETS {
            return Err(Unsure);
        }
        self.pointers.push(pointer);
        Ok(())
    }

    /// Scans `text` for the targets.
    pub(crate) fn run(&mut self, text: &'a str) -> Result<(), Unsure> {
        let plan = Plan::new(self.pointers.iter().copied())?;
        let mut spans = Spans::new(text);
        plan.run(&mut spans)?;
        self.spans = Some(spans);
        self.plan = Some(plan);
        Ok(())
    }

    /// What the scan found for `pointer`: `Ok(None)` when the pointer reaches no
    /// value, `Err(Unsure)` when `pointer` was never a target.
    pub(crate) fn get(&self, pointer: &str) -> Result<Option<Found<'a>>, Unsure> {
        let index = self
            .pointers
            .iter()
            .position(|p| *p == pointer)
            .ok_or(Unsure)?;
        let (Some(plan), Some(spans)) = (&self.plan, &self.spans) else {
            return Err(Unsure);
        };
        spans.get(plan.slot(index))
    }
}

#[cfg(test)]
mod tests {
    use super::{
        Found, Kind, MAX_DEPTH, MAX_TARGETS, Scan, Unsure, same_bytes, same_ignoring_ascii_case,
    };
    use proptest::prelude::*;

    /// Bytes where case matters: letters around both ends of each case, their
    /// neighbours in the table, and bytes with the high bit set.
    fn casey_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            prop::sample::select(vec![
                b'@', b'A', b'Z', b'[', b'`', b'a', b'z', b'{', b'q', b'Q'
            ]),
            any::<u8>(),
        ]
    }

    #[test]
    fn same_ignoring_ascii_case_on_words() {
        for (a, b) in [
            ("processing", "PROCESSING"),
            ("Processing", "processinG"),
            ("queued", "QUEUED"),
            ("done", "DONE"),
            ("ok", "OK"),
        ] {
            assert!(
                same_ignoring_ascii_case(a.as_bytes(), b.as_bytes()),
                "{a} {b}"
            );
        }
        for (a, b) in [
            ("processing", "processinh"),
            ("queued", "queuee"),
            ("@", "`"),
            ("[", "{"),
            ("étape", "ÉTAPE"),
        ] {
            assert!(
                !same_ignoring_ascii_case(a.as_bytes(), b.as_bytes()),
                "{a} {b}"
            );
        }
        // Every pair of bytes, in a word and in a short text.
        for x in 0..=u8::MAX {
            for y in 0..=u8::MAX {
                let (a, b) = (
                    [b'k', b'E', b'y', x, b'-', b'N', b'o', b'.', x],
                    [b'K', b'e', b'Y', y, b'-', b'n', b'O', b'.', y],
                );
                assert_eq!(
                    same_ignoring_ascii_case(&a, &b),
                    a.eq_ignore_ascii_case(&b),
                    "{x} {y}"
                );
                assert_eq!(
                    same_ignoring_ascii_case(&a[..5], &b[..5]),
                    x.eq_ignore_ascii_case(&y),
                    "{x} {y}"
                );
            }
        }
    }

    proptest! {
        /// The word-wise comparison agrees with `eq_ignore_ascii_case` on texts
        /// that differ by case and by single bytes, at every length.
        #[test]
        fn same_ignoring_ascii_case_is_eq_ignore_ascii_case(
            a in proptest::collection::vec(casey_byte(), 0..40),
            flips in proptest::collection::vec(any::<bool>(), 40),
            other in casey_byte(),
            at in any::<prop::sample::Index>(),
        ) {
            // The same text with some letters' case swapped.
            let mut b: Vec<u8> = a
                .iter()
                .zip(&flips)
                .map(|(&x, &flip)| if flip && x.is_ascii_alphabetic() { x ^ 0x20 } else { x })
                .collect();
            prop_assert_eq!(same_ignoring_ascii_case(&a, &b), a.eq_ignore_ascii_case(&b));
            if !b.is_empty() {
                let at = at.index(b.len());
                b[at] = other;
                prop_assert_eq!(same_ignoring_ascii_case(&a, &b), a.eq_ignore_ascii_case(&b));
            }
        }
    }

    proptest! {
        /// The word-wise comparison agrees with `==` at every length, and on
        /// slices that differ in a single byte anywhere.
        #[test]
        fn same_bytes_is_equality(
            a in proptest::collection::vec(0_u8..4, 0..40),
            flip in any::<prop::sample::Index>(),
            shorter in any::<bool>(),
        ) {
            prop_assert!(same_bytes(&a, &a.clone()));
            if !a.is_empty() {
                let mut b = a.clone();
                let at = flip.index(b.len());
                b[at] ^= 1;
                prop_assert!(!same_bytes(&a, &b));
                prop_assert_eq!(same_bytes(&a, &b), a == b);
                if shorter {
                    prop_assert!(!same_bytes(&a, &a[..a.len() - 1]));
                }
            }
        }
    }

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
