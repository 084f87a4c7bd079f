//! A set of JSON pointers compiled into a tree, and the [`DeserializeSeed`] that
//! reads a body for them.
//!
//! One node per pointer prefix, its children keyed by the decoded segment (`~1`
//! is `/`, `~0` is `~`, as `json_pointer` reads them). At an object the read
//! compares each key with the children of the current node; at an array it
//! compares the element's index. A value no pointer goes into is skipped; a value
//! a pointer ends at is kept: scalars as they are (strings borrowed from the body
//! unless they hold an escape), objects and arrays as a `serde_json::Value`. A
//! pointer that goes on below a kept value is looked up in that value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use smallvec::SmallVec;

use crate::profile::status::{Node, array_index, decode_segment, step};

/// A set of JSON pointers compiled into a tree of their segments. Built once per
/// profile, read with on every status body.
#[derive(Clone, Debug, Default)]
pub(in crate::profile) struct PointerTree {
    /// Node 0 is the whole document; the nodes below a node follow it (preorder),
    /// so a node's subtree is the range from it to its `end`.
    nodes: Vec<PointerNode>,
}

/// A pointer prefix that some pointer goes through or ends at.
#[derive(Clone, Debug, Default)]
struct PointerNode {
    /// The segments that lead on from here.
    children: Vec<Child>,
    /// Whether some pointer ends here: its value is kept.
    kept: bool,
    /// One past the last node of this node's subtree.
    end: usize,
    /// The highest node above this one whose value is kept, if any: pointers
    /// below a kept value are looked up in it, with the segments from there.
    holder: Option<usize>,
    /// The decoded segments from the document to this node.
    path: Box<[Box<str>]>,
}

/// A segment leading from one node to another.
#[derive(Clone, Debug)]
struct Child {
    /// The segment decoded: the key it names in an object.
    key: Box<str>,
    /// The index it names in an array, by the rules of `json_pointer`.
    index: Option<usize>,
    /// The node it leads to.
    node: usize,
}

/// A pointer tree while it is built.
#[derive(Default)]
struct Trie {
    children: Vec<(Box<str>, Trie)>,
    kept: bool,
}

impl PointerTree {
    /// Adds `pointer` to the tree being built; the node it ends at, as the path of
    /// decoded segments, or `None` when it can find nothing (a non-empty pointer
    /// without its leading `/`).
    fn insert(trie: &mut Trie, pointer: &str) -> Option<Vec<Box<str>>> {
        let segments: Vec<Box<str>> = if pointer.is_empty() {
            Vec::new()
        } else {
            pointer
                .strip_prefix('/')?
                .split('/')
                .map(|segment| Box::from(decode_segment(segment).as_ref()))
                .collect()
        };
        let mut at = trie;
        for segment in &segments {
            let place = match at.children.iter().position(|(key, _)| key == segment) {
                Some(place) => place,
                None => {
                    at.children.push((segment.clone(), Trie::default()));
                    at.children.len() - 1
                }
            };
            at = &mut at.children[place].1;
        }
        at.kept = true;
        Some(segments)
    }

    /// The tree of `pointers`, and for each pointer the node it ends at (`None`
    /// for one that finds nothing).
    pub(in crate::profile) fn new<'p>(
        pointers: impl IntoIterator<Item = &'p str>,
    ) -> (PointerTree, Vec<Option<usize>>) {
        let mut trie = Trie::default();
        let paths: Vec<Option<Vec<Box<str>>>> = pointers
            .into_iter()
            .map(|pointer| PointerTree::insert(&mut trie, pointer))
            .collect();
        let mut tree = PointerTree::default();
        tree.flatten(trie, Vec::new(), None);
        let ends = paths.into_iter().map(|path| tree.node_at(&path?)).collect();
        (tree, ends)
    }

    /// Appends `trie`'s nodes in preorder; returns the index of its root.
    fn flatten(&mut self, trie: Trie, path: Vec<Box<str>>, holder: Option<usize>) -> usize {
        let here = self.nodes.len();
        self.nodes.push(PointerNode {
            children: Vec::new(),
            kept: trie.kept,
            end: here + 1,
            holder,
            path: path.clone().into_boxed_slice(),
        });
        // Below a kept value, nothing is read on its own: the highest kept node
        // holds the values of every node below it.
        let below = holder.or(trie.kept.then_some(here));
        let mut children = Vec::with_capacity(trie.children.len());
        for (key, child) in trie.children {
            let mut child_path = path.clone();
            child_path.push(key.clone());
            let node = self.flatten(child, child_path, below);
            children.push(Child {
                index: array_index(&key),
                key,
                node,
            });
        }
        let end = self.nodes.len();
        if let Some(node) = self.nodes.get_mut(here) {
            node.children = children;
            node.end = end;
        }
        here
    }

    /// The node at the end of `path`.
    fn node_at(&self, path: &[Box<str>]) -> Option<usize> {
        path.iter().try_fold(0, |node, segment| {
            self.nodes
                .get(node)?
                .children
                .iter()
                .find(|child| child.key == *segment)
                .map(|child| child.node)
        })
    }

    /// Reads `body` (a whole JSON document, without a byte order mark) into
    /// `kept` (an empty one): what the tree's pointers found, or `None` when
    /// serde_json refuses the body.
    pub(in crate::profile) fn read<'t, 'k, 'de>(
        &'t self,
        body: &'de [u8],
        kept: &'k mut Kept<'de>,
    ) -> Option<Found<'t, 'k, 'de>> {
        let kept = &mut kept.0;
        kept.clear();
        kept.resize_with(self.nodes.len(), || None);
        let mut de = serde_json::Deserializer::from_slice(body);
        At {
            tree: self,
            node: 0,
            kept,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        Some(Found { tree: self, kept })
    }
}

/// Room for the values one read keeps, one place per node of the tree: on the
/// stack for the trees of the built-in profiles.
#[derive(Default)]
pub(in crate::profile) struct Kept<'de>(SmallVec<[Option<Leaf<'de>>; 16]>);

/// A value a pointer of the tree ends at.
#[derive(Debug)]
enum Leaf<'de> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'de, str>),
    /// An object or an array.
    Value(serde_json::Value),
}

/// What one read of a body found, by node of the tree.
pub(in crate::profile) struct Found<'t, 'k, 'de> {
    tree: &'t PointerTree,
    kept: &'k [Option<Leaf<'de>>],
}

impl Found<'_, '_, '_> {
    /// The value at `node`: kept there, or looked up below the kept value above
    /// it.
    pub(in crate::profile) fn at(&self, node: usize) -> Option<Node<'_>> {
        if let Some(leaf) = self.kept.get(node)?.as_ref() {
            return Some(match leaf {
                Leaf::Null => Node::Null,
                Leaf::Bool(b) => Node::Bool(*b),
                Leaf::Number(n) => Node::Number(n),
                Leaf::String(s) => Node::String(s),
                Leaf::Value(value) => Node::Tree(value),
            });
        }
        let place = self.tree.nodes.get(node)?;
        let holder = place.holder?;
        let Some(Leaf::Value(value)) = self.kept.get(holder)?.as_ref() else {
            // A scalar has nothing below it; a holder not found, nothing at all.
            return None;
        };
        let depth = self.tree.nodes.get(holder)?.path.len();
        place
            .path
            .get(depth..)?
            .iter()
            .try_fold(value, |value, segment| step(value, segment))
            .map(Node::Tree)
    }
}

/// Reads the value at `node` into `kept`.
struct At<'t, 'k, 'de> {
    tree: &'t PointerTree,
    node: usize,
    kept: &'k mut [Option<Leaf<'de>>],
}

impl<'de> DeserializeSeed<'de> for At<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let Some(place) = self.tree.nodes.get(self.node) else {
            return deserializer.deserialize_any(Skip);
        };
        if place.kept {
            let leaf = deserializer.deserialize_any(KeepLeaf)?;
            if let Some(slot) = self.kept.get_mut(self.node) {
                *slot = Some(leaf);
            }
            Ok(())
        } else {
            // Found below this node before (a key that occurs twice): the
            // later value replaces the earlier one whole.
            if let Some(below) = self.kept.get_mut(self.node..place.end) {
                below.iter_mut().for_each(|slot| *slot = None);
            }
            deserializer.deserialize_any(Walk {
                tree: self.tree,
                children: &place.children,
                kept: self.kept,
            })
        }
    }
}

/// Walks an object or array that pointers go into; any other value has nothing
/// below it.
struct Walk<'t, 'k, 'de> {
    tree: &'t PointerTree,
    children: &'t [Child],
    kept: &'k mut [Option<Leaf<'de>>],
}

/// The scalar methods of a visitor that takes any scalar and finds nothing in it.
macro_rules! any_scalar_is_nothing {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
    };
}

impl<'de> Visitor<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    any_scalar_is_nothing!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0_usize;
        loop {
            let child = self.children.iter().find(|c| c.index == Some(index));
            let more = match child {
                Some(child) => seq
                    .next_element_seed(At {
                        tree: self.tree,
                        node: child.node,
                        kept: self.kept,
                    })?
                    .is_some(),
                None => seq.next_element_seed(Skip)?.is_some(),
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(child) = map.next_key_seed(Key(self.children))? {
            match child {
                Some(node) => map.next_value_seed(At {
                    tree: self.tree,
                    node,
                    kept: self.kept,
                })?,
                None => map.next_value_seed(Skip)?,
            }
        }
        Ok(())
    }
}

/// An object key, compared with the segments that lead on: the node it leads to.
struct Key<'t>(&'t [Child]);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        // Length and first byte first: most keys differ there, without a call to
        // `memcmp`.
        let (len, first) = (key.len(), key.as_bytes().first());
        Ok(self
            .0
            .iter()
            .find(|child| {
                child.key.len() == len
                    && child.key.as_bytes().first() == first
                    && *child.key == *key
            })
            .map(|child| child.node))
    }
}

/// A value no pointer goes into: read as the tree read reads it (`deserialize_any`
/// at every level, so with serde_json's checks of nesting and numbers), and
/// dropped.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    any_scalar_is_nothing!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A value a pointer ends at, kept as `serde_json::Value` would hold it.
struct KeepLeaf;

impl<'de> Visitor<'de> for KeepLeaf {
    type Value = Leaf<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Leaf<'de>, E> {
        // As `serde_json::Value` does (serde_json reads no NaN nor infinity).
        Ok(serde_json::Number::from_f64(n).map_or(Leaf::Null, Leaf::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::String(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Leaf<'de>, E> {
        Ok(Leaf::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Leaf<'de>, A::Error> {
        let deserializer = de::value::SeqAccessDeserializer::new(seq);
        serde::Deserialize::deserialize(deserializer).map(Leaf::Value)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Leaf<'de>, A::Error> {
        let deserializer = de::value::MapAccessDeserializer::new(map);
        serde::Deserialize::deserialize(deserializer).map(Leaf::Value)
    }
}
