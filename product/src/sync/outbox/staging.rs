//! The staged-event protocol: a create's event is staged, promoted after its commit, or recovered.

use std::path::PathBuf;

use super::schema::{EVENTS, QUEUED, STAGED, STATE};
use super::{Outbox, OutboxError};
use crate::sync::envelope::{Envelope, EnvelopeDraft};

/// Where a staged event's mission is being created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    /// The repository's git directory (its mission lock lives there).
    pub git_dir: PathBuf,
    /// The work tree.
    pub top: PathBuf,
    /// The mission directory name under `kitty-specs/`.
    pub dir: String,
}

impl Outbox {
    /// Queue `draft` as *staged*: durable, but never sent until [`promote`](Self::promote)d. A
    /// mission create stages its event before it writes anything, and promotes it once its
    /// commit exists; after a crash in between, [`staged`](Self::staged) finds it for recovery.
    pub fn append_staged(
        &mut self,
        draft: EnvelopeDraft,
        staging: &Staging,
    ) -> Result<Envelope, OutboxError> {
        self.insert(vec![draft], Some(staging))
            .map(|mut v| v.remove(0))
    }

    /// Make a staged event sendable.
    pub fn promote(&mut self, event_id: &str) -> Result<(), OutboxError> {
        // Not synced (synchronous=NORMAL for this one write): if power fails before the WAL
        // reaches the disk, recovery promotes the event anyway, because its commit exists. A
        // killed process loses nothing either way (the WAL is in the page cache).
        self.relaxed(|outbox| {
            outbox.write(|tx| {
                tx.execute(
                    &format!(
                        "UPDATE {EVENTS} SET {STATE} = '{QUEUED}', staged_git_dir = NULL,
                             staged_top = NULL, staged_dir = NULL
                         WHERE event_id = ?1 AND {STATE} = '{STAGED}'"
                    ),
                    [event_id],
                )
                .map(|_| ())
            })
        })
    }

    /// Every staged event (a create in progress, or one that died before promoting it).
    pub fn staged(&self) -> Result<Vec<(String, Staging)>, OutboxError> {
        self.sql(|c| {
            c.prepare(&format!(
                "SELECT event_id, staged_git_dir, staged_top, staged_dir FROM {EVENTS}
                 WHERE {STATE} = '{STAGED}' ORDER BY seq"
            ))?
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Staging {
                        git_dir: PathBuf::from(r.get::<_, Option<String>>(1)?.unwrap_or_default()),
                        top: PathBuf::from(r.get::<_, Option<String>>(2)?.unwrap_or_default()),
                        dir: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    },
                ))
            })?
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::outbox::fixtures::{draft, fresh};

    #[test]
    fn staged_events_are_never_sent_until_promoted() {
        let (_dir, _path, mut outbox) = fresh();
        let staging = Staging {
            git_dir: "/repo/.git".into(),
            top: "/repo".into(),
            dir: "001-x".into(),
        };
        let e = outbox.append_staged(draft("x"), &staging).unwrap();
        assert_eq!(outbox.depth().unwrap(), 0);
        assert_eq!(
            outbox.staged().unwrap(),
            vec![(e.event_id.clone(), staging)]
        );
        assert!(
            outbox
                .next_batch(0, 10, i64::MAX, false, "t")
                .unwrap()
                .events
                .is_empty()
        );
        outbox.promote(&e.event_id).unwrap();
        assert!(outbox.staged().unwrap().is_empty());
        assert_eq!(outbox.depth().unwrap(), 1);
    }
}
