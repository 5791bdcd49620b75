//! The work-package lane machine (**interop**: the reference's edges, their guards, force, and
//! the forward order that hops expand along).

use super::super::status::Lane;

/// The forward order: a forward move emits one hop per lane between.
pub const FORWARD: [Lane; 7] = [
    Lane::Planned,
    Lane::Claimed,
    Lane::InProgress,
    Lane::ForReview,
    Lane::InReview,
    Lane::Approved,
    Lane::Done,
];

/// The lanes `--to` accepts, in the order the refusal lists them.
pub const TARGETS: [Lane; 9] = Lane::DISPLAY;

/// The lanes `from` may move to without force.
pub fn edges(from: Lane) -> &'static [Lane] {
    use Lane::{
        Approved, Blocked, Canceled, Claimed, Done, ForReview, Genesis, InProgress, InReview,
        Planned, Uninitialized,
    };
    match from {
        Genesis => &[Planned, Canceled],
        Planned => &[Claimed, Blocked, Canceled],
        Claimed => &[InProgress, Blocked, Canceled],
        InProgress => &[ForReview, Approved, Planned, Blocked, Canceled],
        ForReview => &[InReview, Blocked, Canceled],
        InReview => &[Approved, Done, InProgress, Planned, Blocked, Canceled],
        Approved => &[Done, InProgress, Planned, Blocked, Canceled],
        Blocked => &[InProgress, Canceled],
        Done | Canceled | Uninitialized => &[],
    }
}

/// What a hop carries that the guards look at.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Forced.
    pub force: bool,
    /// An actor is named.
    pub actor: bool,
    /// A reason is given.
    pub reason: bool,
    /// A workspace context is given.
    pub workspace: bool,
    /// A review reference is given.
    pub review_ref: bool,
    /// A review result (reviewer, verdict, reference) is given.
    pub review_result: bool,
    /// Approval evidence is given.
    pub evidence: bool,
    /// Subtasks are complete and implementation evidence present.
    pub work_complete: bool,
}

/// Whether `from` → `to` may happen with `ctx`; the reference's refusal sentence when not.
pub fn check(from: Lane, to: Lane, ctx: &Context) -> Result<(), String> {
    if ctx.force {
        if to == Lane::Genesis {
            return Err(format!(
                "Illegal transition: {} -> {}",
                from.as_str(),
                to.as_str()
            ));
        }
        if !(ctx.actor && ctx.reason) {
            return Err("Force transitions require actor and reason".into());
        }
        return Ok(());
    }
    if !edges(from).contains(&to) {
        return Err(format!(
            "Illegal transition: {} -> {}",
            from.as_str(),
            to.as_str()
        ));
    }
    use Lane::{Approved, Claimed, Done, ForReview, InProgress, InReview, Planned};
    let refusal = match (from, to) {
        (Planned, Claimed) | (ForReview, InReview) if !ctx.actor => {
            Some("Transition requires actor identity".to_string())
        }
        (Claimed, InProgress) if !ctx.workspace => {
            Some("Transition claimed -> in_progress requires workspace context".into())
        }
        (InProgress, ForReview) if !ctx.work_complete => Some(
            "Transition in_progress -> for_review requires completed subtasks or force with reason"
                .into(),
        ),
        (InProgress, Approved) | (Approved, Done) if !ctx.evidence => Some(format!(
            "Transition to {} requires evidence (reviewer identity and approval reference)",
            to.as_str()
        )),
        (InProgress, Planned) if !ctx.reason => {
            Some("Transition in_progress -> planned requires reason".into())
        }
        (Approved, InProgress | Planned) if !ctx.review_ref => Some(format!(
            "Transition approved -> {} requires review_ref",
            to.as_str()
        )),
        (InReview, _) if !ctx.review_result => Some(format!(
            "Transition in_review -> {} requires review_result",
            to.as_str()
        )),
        _ => None,
    };
    refusal.map_or(Ok(()), Err)
}

/// Whether `to` comes before `from` in the forward order (lanes outside it never do).
pub fn is_backward(from: Lane, to: Lane) -> bool {
    match (
        FORWARD.iter().position(|l| *l == from),
        FORWARD.iter().position(|l| *l == to),
    ) {
        (Some(f), Some(t)) => t < f,
        _ => false,
    }
}

/// The hops of an unforced move: each lane after `from` up to `to` along the forward order, else
/// `to` alone.
pub fn hops(from: Lane, to: Lane) -> Vec<Lane> {
    match (
        FORWARD.iter().position(|l| *l == from),
        FORWARD.iter().position(|l| *l == to),
    ) {
        (Some(f), Some(t)) if t > f => FORWARD[f + 1..=t].to_vec(),
        _ => vec![to],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forward_move_expands_into_one_hop_per_lane_and_anything_else_is_one_hop() {
        assert_eq!(
            hops(Lane::Planned, Lane::InProgress),
            [Lane::Claimed, Lane::InProgress]
        );
        assert_eq!(hops(Lane::Planned, Lane::Blocked), [Lane::Blocked]);
        assert_eq!(hops(Lane::Approved, Lane::InProgress), [Lane::InProgress]);
        assert_eq!(hops(Lane::Claimed, Lane::Claimed), [Lane::Claimed]);
    }

    #[test]
    fn each_guard_refuses_without_its_fact_and_passes_with_it() {
        /// A hop, the fact that lets it pass, the refusal's words without it.
        type Case = (Lane, Lane, fn(&mut Context), &'static str);
        let cases: [Case; 10] = [
            (
                Lane::Planned,
                Lane::Claimed,
                |c| c.actor = true,
                "actor identity",
            ),
            (
                Lane::ForReview,
                Lane::InReview,
                |c| c.actor = true,
                "actor identity",
            ),
            (
                Lane::Claimed,
                Lane::InProgress,
                |c| c.workspace = true,
                "workspace context",
            ),
            (
                Lane::InProgress,
                Lane::ForReview,
                |c| c.work_complete = true,
                "completed subtasks",
            ),
            (
                Lane::InProgress,
                Lane::Approved,
                |c| c.evidence = true,
                "requires evidence",
            ),
            (
                Lane::Approved,
                Lane::Done,
                |c| c.evidence = true,
                "requires evidence",
            ),
            (
                Lane::InProgress,
                Lane::Planned,
                |c| c.reason = true,
                "requires reason",
            ),
            (
                Lane::Approved,
                Lane::InProgress,
                |c| c.review_ref = true,
                "requires review_ref",
            ),
            (
                Lane::Approved,
                Lane::Planned,
                |c| c.review_ref = true,
                "requires review_ref",
            ),
            (
                Lane::InReview,
                Lane::Approved,
                |c| c.review_result = true,
                "requires review_result",
            ),
        ];
        for (from, to, give, words) in cases {
            let mut ctx = Context::default();
            let refused = check(from, to, &ctx).unwrap_err();
            assert!(refused.contains(words), "{from:?} -> {to:?}: {refused}");
            give(&mut ctx);
            assert_eq!(check(from, to, &ctx), Ok(()), "{from:?} -> {to:?}");
        }
        // Edges without a guard pass bare.
        assert_eq!(
            check(Lane::Planned, Lane::Blocked, &Context::default()),
            Ok(())
        );
        assert_eq!(
            check(Lane::Blocked, Lane::InProgress, &Context::default()),
            Ok(())
        );
    }

    #[test]
    fn backward_is_against_the_forward_order_only() {
        assert!(is_backward(Lane::Approved, Lane::InProgress));
        assert!(!is_backward(Lane::Claimed, Lane::InProgress));
        assert!(!is_backward(Lane::Blocked, Lane::Planned));
        assert!(!is_backward(Lane::InProgress, Lane::InProgress));
    }

    #[test]
    fn guards_refuse_with_the_reference_s_sentences_and_force_needs_actor_and_reason() {
        let ok = Context {
            actor: true,
            reason: true,
            workspace: true,
            ..Context::default()
        };
        assert!(check(Lane::Planned, Lane::Claimed, &ok).is_ok());
        assert_eq!(
            check(Lane::Claimed, Lane::Claimed, &ok).unwrap_err(),
            "Illegal transition: claimed -> claimed"
        );
        assert_eq!(
            check(Lane::Done, Lane::InProgress, &ok).unwrap_err(),
            "Illegal transition: done -> in_progress"
        );
        assert!(
            check(Lane::InProgress, Lane::ForReview, &ok)
                .unwrap_err()
                .contains("requires completed subtasks")
        );
        assert!(check(Lane::ForReview, Lane::InReview, &ok).is_ok());
        assert!(check(Lane::InReview, Lane::Approved, &ok).is_err());
        let forced = Context {
            force: true,
            ..ok.clone()
        };
        assert!(check(Lane::Done, Lane::InProgress, &forced).is_ok());
        assert!(check(Lane::Done, Lane::Genesis, &forced).is_err());
        let no_reason = Context {
            force: true,
            actor: true,
            ..Context::default()
        };
        assert_eq!(
            check(Lane::Planned, Lane::Done, &no_reason).unwrap_err(),
            "Force transitions require actor and reason"
        );
        assert!(
            check(
                Lane::Claimed,
                Lane::InProgress,
                &Context {
                    actor: true,
                    ..Context::default()
                }
            )
            .is_err()
        );
    }
}
