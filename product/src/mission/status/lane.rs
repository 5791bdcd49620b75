//! The lanes a work package moves through, in the reference's declaration order, with the
//! board's display order and the progress weights.

/// A lane (**interop**: the reference's string values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    /// Before finalize: only ever a transition's `from_lane`.
    Genesis,
    /// Read-side sentinel: a work package known only through annotations.
    Uninitialized,
    /// Ready to claim.
    Planned,
    /// Claimed by an agent.
    Claimed,
    /// Being implemented.
    InProgress,
    /// Waiting for review.
    ForReview,
    /// Being reviewed.
    InReview,
    /// Approved.
    Approved,
    /// Done (terminal).
    Done,
    /// Blocked.
    Blocked,
    /// Canceled (terminal).
    Canceled,
}

/// Every lane, in declaration order.
const ALL: [Lane; 11] = [
    Lane::Genesis,
    Lane::Uninitialized,
    Lane::Planned,
    Lane::Claimed,
    Lane::InProgress,
    Lane::ForReview,
    Lane::InReview,
    Lane::Approved,
    Lane::Done,
    Lane::Blocked,
    Lane::Canceled,
];

impl Lane {
    /// The nine lanes a board counts, in display order.
    pub const DISPLAY: [Lane; 9] = [
        Lane::Planned,
        Lane::Claimed,
        Lane::InProgress,
        Lane::ForReview,
        Lane::InReview,
        Lane::Approved,
        Lane::Done,
        Lane::Blocked,
        Lane::Canceled,
    ];

    /// The reference's string value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genesis => "genesis",
            Self::Uninitialized => "uninitialized",
            Self::Planned => "planned",
            Self::Claimed => "claimed",
            Self::InProgress => "in_progress",
            Self::ForReview => "for_review",
            Self::InReview => "in_review",
            Self::Approved => "approved",
            Self::Done => "done",
            Self::Blocked => "blocked",
            Self::Canceled => "canceled",
        }
    }

    /// The lane named exactly `s` (the event log accepts no alias).
    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The lane named `s` where people write lanes (frontmatter, `--to`): `doing` is
    /// `in_progress`.
    pub fn parse_alias(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "doing" => Some(Self::InProgress),
            other => Self::parse(other),
        }
    }

    /// The lane's share of "weighted readiness" (0 to 1).
    pub fn weight(self) -> f64 {
        match self {
            Self::Claimed => 0.05,
            Self::InProgress => 0.3,
            Self::ForReview => 0.6,
            Self::InReview => 0.7,
            Self::Approved => 0.8,
            Self::Done => 1.0,
            _ => 0.0,
        }
    }

    /// Whether a work package in this lane has started executing (anything past planned but
    /// canceled).
    pub fn is_execution(self) -> bool {
        !matches!(
            self,
            Self::Genesis | Self::Uninitialized | Self::Planned | Self::Canceled
        )
    }
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lane_reads_back_from_its_name_and_doing_only_as_an_alias() {
        for lane in ALL {
            assert_eq!(Lane::parse(lane.as_str()), Some(lane));
        }
        assert_eq!(Lane::parse("doing"), None);
        assert_eq!(Lane::parse_alias("doing"), Some(Lane::InProgress));
        assert_eq!(Lane::parse_alias("Done"), Some(Lane::Done));
    }
}
