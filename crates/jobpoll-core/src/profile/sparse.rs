//! The fast read of a status body: serde_json drives a `DeserializeSeed` built
//! from the profile's pointers, which keeps only the values those pointers reach
//! and builds no `serde_json::Value` for the rest of the body.
//!
//! A profile's status pointers (each as written and each of its
//! `|`-alternatives) are compiled once, on the first read, into a [`StatusPlan`]:
//! a [`PointerTree`] and, for each field of the report, the nodes it tries in
//! order. The plan is kept in the profile and rebuilt for a read after the
//! profile's pointers changed. The report is then built by the same rules as the
//! tree read's, over the values the read found.
//!
//! The result is the tree read's by construction: every value, kept or skipped, is
//! read with `deserialize_any`, the very call `serde_json::Value` makes, so the
//! read accepts and refuses exactly the bodies the tree read does (UTF-8 of every
//! string, the range of every number, serde_json's nesting limit of 128, trailing
//! bytes), and leaves are the same bits. `serde::de::IgnoredAny` would skip faster,
//! but serde_json's ignore path neither counts nesting nor checks that a number is
//! in range, so it would read bodies the tree read refuses. A key that occurs twice
//! replaces what was found under its first occurrence, as the map of a
//! `serde_json::Value` does. Any error of serde_json's is not reported here: the
//! caller reads the body by tree, and reports the tree read's error.

use std::sync::OnceLock;

use super::status::{Field, Lookup, Node, alternatives, status_rule, trim_body};
use super::{Completion, InterpretError, Profile, StatusReport};

mod tree;
#[cfg(test)]
mod tree_tests;

pub(super) use tree::PointerTree;
use tree::{Found, Kept};

/// A profile's [`StatusPlan`], built the first time it reads a status body.
/// Every profile compares equal here: the plan is derived from the profile's data.
#[derive(Clone, Default)]
pub(super) struct PlanCell(OnceLock<Option<StatusPlan>>);

impl core::fmt::Debug for PlanCell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("..")
    }
}

impl PartialEq for PlanCell {
    fn eq(&self, _: &PlanCell) -> bool {
        true
    }
}

impl Eq for PlanCell {}

impl Profile {
    /// The fast path of [`Interpret::read_status`]: serde_json reads the status
    /// body for the pointers the report needs, without building a
    /// `serde_json::Value` of the rest (see `sparse`). `None` when the profile is
    /// not one it handles or serde_json refuses the body: the tree read then gives
    /// the answer, error included.
    #[cfg(test)]
    pub(super) fn read_status_sparse(
        &self,
        body: &[u8],
    ) -> Option<Result<StatusReport, InterpretError>> {
        let mut report = StatusReport::default();
        Some(
            self.sparse_status(body, true, &mut report)?
                .map(|()| report),
        )
    }

    /// `Profile::read_status_sparse` into `report` (a default one), reading the
    /// job id only when `wants_id`. After `None` or an error, `report` means
    /// nothing.
    pub(super) fn sparse_status(
        &self,
        body: &[u8],
        wants_id: bool,
        report: &mut StatusReport,
    ) -> Option<Result<(), InterpretError>> {
        let Completion::Status { pointer, values } = &self.completion else {
            return None;
        };
        if self.revision_pointer.is_some() {
            return None;
        }
        let cached = self
            .status_plan
            .0
            .get_or_init(|| StatusPlan::new(self))
            .as_ref()?;
        // The fields are public: a profile changed since its plan was built gets a
        // plan of its own for this read.
        let fresh;
        let plan = if cached.fits(self) {
            cached
        } else {
            fresh = StatusPlan::new(self)?;
            &fresh
        };
        let mut kept = Kept::default();
        let found = plan.tree.read(trim_body(body), &mut kept)?;
        let doc = Sparse {
            plan,
            found: &found,
        };
        let status = Field { pointer, index: 0 };
        Some(
            status_rule(doc, body, &self.name, status, values)
                .map(|outcome| self.fill_report(doc, outcome, wants_id, report)),
        )
    }
}

/// The pointers a status report may read, compiled for the sparse read: the
/// status pointer (field 0), each submit id pointer, then the eight optional
/// pointers of [`StatusPlan::optional`]'s order, each with its `|`-alternatives.
#[derive(Clone, Debug)]
struct StatusPlan {
    /// The pointers the plan was built from, field by field (`None` for an
    /// optional pointer that is not set).
    pointers: Vec<Option<Box<str>>>,
    /// The nodes of `tree` each field tries, in order: the pointer as written,
    /// then its alternatives (a pointer that can find nothing has no node).
    fields: Vec<Box<[usize]>>,
    tree: PointerTree,
}

impl StatusPlan {
    /// The optional pointers, in field order after the id pointers: the six
    /// single ones, then the `done` and `total` of the progress ratio.
    fn optional(profile: &Profile) -> [Option<&str>; 8] {
        let ratio = profile.progress_ratio.as_ref();
        [
            profile.percentage_pointer.as_deref(),
            profile.step_pointer.as_deref(),
            profile.eta_pointer.as_deref(),
            profile.result_pointer.as_deref(),
            profile.error_message_pointer.as_deref(),
            profile.error_details_pointer.as_deref(),
            ratio.map(|r| r.done.as_str()),
            ratio.map(|r| r.total.as_str()),
        ]
    }

    /// The pointer of each field, in order.
    fn pointers(profile: &Profile) -> Option<impl Iterator<Item = Option<&str>>> {
        let Completion::Status { pointer, .. } = &profile.completion else {
            return None;
        };
        Some(
            core::iter::once(Some(pointer.as_str()))
                .chain(profile.submit_id_pointers.iter().map(|p| Some(p.as_str())))
                .chain(Self::optional(profile)),
        )
    }

    /// The plan for `profile`'s pointers; `None` for a profile that is not read
    /// by a status pointer.
    fn new(profile: &Profile) -> Option<StatusPlan> {
        let mut pointers = Vec::new();
        let mut counts = Vec::new();
        let mut tried: Vec<&str> = Vec::new();
        for pointer in Self::pointers(profile)? {
            pointers.push(pointer.map(Box::from));
            let before = tried.len();
            if let Some(pointer) = pointer {
                tried.push(pointer);
                tried.extend(alternatives(pointer).into_iter().flatten());
            }
            counts.push(tried.len() - before);
        }
        let (tree, ends) = PointerTree::new(tried);
        let mut ends = ends.into_iter();
        let fields = counts
            .into_iter()
            .map(|count| ends.by_ref().take(count).flatten().collect())
            .collect();
        Some(StatusPlan {
            pointers,
            fields,
            tree,
        })
    }

    /// Whether the plan was built from `profile`'s pointers as they are now.
    /// Checked on every read, so written out field by field rather than with
    /// [`StatusPlan::pointers`]' chain of iterators.
    fn fits(&self, profile: &Profile) -> bool {
        let Completion::Status { pointer, .. } = &profile.completion else {
            return false;
        };
        let ids = &profile.submit_id_pointers;
        let optional = Self::optional(profile);
        let Some((status, rest)) = self.pointers.split_first() else {
            return false;
        };
        if rest.len() != ids.len() + optional.len() {
            return false;
        }
        let (built_ids, built_optional) = rest.split_at(ids.len());
        status.as_deref() == Some(pointer.as_str())
            && built_ids
                .iter()
                .zip(ids)
                .all(|(was, now)| was.as_deref() == Some(now.as_str()))
            && built_optional
                .iter()
                .zip(optional)
                .all(|(was, now)| was.as_deref() == now)
    }

    /// The nodes field `index` tries, in order.
    fn tried(&self, index: usize) -> &[usize] {
        self.fields.get(index).map_or(&[], |nodes| nodes)
    }
}

/// The values a sparse read found, with the plan that says which field tries
/// which of them.
#[derive(Clone, Copy)]
struct Sparse<'a, 'de> {
    plan: &'a StatusPlan,
    found: &'a Found<'a, 'a, 'de>,
}

impl<'a, 'de: 'a> Lookup<'a> for Sparse<'a, 'de> {
    fn find<T>(self, field: Field<'_>, accept: impl Fn(Node<'a>) -> Option<T>) -> Option<T> {
        // The plan's nodes for the field are its pointer and alternatives, in order.
        self.plan
            .tried(field.index)
            .iter()
            .find_map(|&node| self.found.at(node).and_then(&accept))
    }
}
