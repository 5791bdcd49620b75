//! Grouping work packages into lanes: write-scope overlaps and shared surfaces join them
//! (union-find), lanes are named in order, ordered by dependency depth (**interop**: the
//! reference's rules, evidence and order).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::mission::tasks::ownership::{Manifest, overlaps};

/// One lane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lane {
    /// `lane-a`, `lane-b`, ..., or `lane-planning`.
    pub lane_id: String,
    /// Its work packages in dependency order.
    pub wp_ids: Vec<String>,
    /// The union of their owned globs, sorted.
    pub write_scope: Vec<String>,
    /// The surfaces their bodies touch, sorted.
    pub predicted_surfaces: Vec<String>,
    /// Lanes it waits for, sorted.
    pub depends_on_lanes: Vec<String>,
    /// 0 without dependencies, else one more than the deepest dependency.
    pub parallel_group: usize,
}

/// One union of two work packages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merge {
    /// The smaller id.
    pub wp_a: String,
    /// The larger id.
    pub wp_b: String,
    /// `write_scope_overlap` or `surface_heuristic`.
    pub rule: String,
    /// Why.
    pub evidence: String,
}

/// The lanes and how they came to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Lanes {
    /// Ordered by (parallel group, id).
    pub lanes: Vec<Lane>,
    /// Work packages that only write planning artifacts.
    pub planning_artifact_wps: Vec<String>,
    /// The unions made.
    pub merges: Vec<Merge>,
    /// Merges of work packages with no dependency path between them.
    pub independent_collapsed: usize,
}

/// Why lanes could not be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum LaneError {
    /// A work package without a manifest.
    NoManifest(String),
    /// Lanes depend on each other in a circle.
    Cycle(Vec<String>),
}

const SURFACES: [(&str, &[&str]); 8] = [
    ("dashboard", &["dashboard", "landing page", "landing-page"]),
    ("workspace", &["workspace", "mission workspace"]),
    (
        "app-shell",
        &["app shell", "app-shell", "navigation", "sidebar", "layout"],
    ),
    (
        "legacy-cleanup",
        &["legacy", "cleanup", "deprecat", "remov"],
    ),
    (
        "tests",
        &[
            "test suite",
            "test infrastructure",
            "e2e test",
            "integration test",
        ],
    ),
    ("tracker-integration", &["tracker", "saas", "sync"]),
    ("artifact-rendering", &["artifact", "render", "template"]),
    ("api", &["api", "endpoint", "route", "view"]),
];

/// The surfaces a body mentions.
pub fn surfaces(body: &str) -> Vec<String> {
    let lower = body.to_lowercase();
    SURFACES
        .iter()
        .filter(|(_, keys)| keys.iter().any(|k| lower.contains(k)))
        .map(|(tag, _)| (*tag).to_string())
        .collect()
}

struct Dsu {
    parent: BTreeMap<String, String>,
    rank: BTreeMap<String, usize>,
}

impl Dsu {
    fn find(&mut self, x: &str) -> String {
        let mut x = x.to_string();
        loop {
            let p = self.parent[&x].clone();
            if p == x {
                return x;
            }
            let gp = self.parent[&p].clone();
            self.parent.insert(x.clone(), gp.clone());
            x = gp;
        }
    }
    fn union(&mut self, a: &str, b: &str) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (ka, kb) = (self.rank[&ra], self.rank[&rb]);
        if ka < kb {
            self.parent.insert(ra, rb);
        } else {
            self.parent.insert(rb.clone(), ra.clone());
            if ka == kb {
                self.rank.insert(ra, ka + 1);
            }
        }
        true
    }
}

/// Whether `a` reaches `b` through dependencies.
pub fn reaches(deps: &BTreeMap<String, Vec<String>>, a: &str, b: &str) -> bool {
    let mut stack = vec![a.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(x) = stack.pop() {
        if !seen.insert(x.clone()) {
            continue;
        }
        for d in deps.get(&x).into_iter().flatten() {
            if d == b {
                return true;
            }
            stack.push(d.clone());
        }
    }
    false
}

fn related(deps: &BTreeMap<String, Vec<String>>, a: &str, b: &str) -> bool {
    reaches(deps, a, b) || reaches(deps, b, a)
}

fn lane_name(i: usize) -> String {
    let mut n = i;
    let mut s = String::new();
    loop {
        s.insert(0, (b'a' + (n % 26) as u8) as char);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    format!("lane-{s}")
}

/// Compute the lanes of `deps` (every work package, each list sorted) with their manifests and
/// bodies.
pub fn compute(
    deps: &BTreeMap<String, Vec<String>>,
    manifests: &BTreeMap<String, Manifest>,
    bodies: &BTreeMap<String, String>,
) -> Result<Lanes, LaneError> {
    let mut planning = Vec::new();
    let mut code = Vec::new();
    for wp in deps.keys() {
        let m = manifests
            .get(wp)
            .ok_or_else(|| LaneError::NoManifest(wp.clone()))?;
        if m.execution_mode == "planning_artifact" {
            planning.push(wp.clone());
        } else {
            code.push(wp.clone());
        }
    }
    let surf: BTreeMap<&String, Vec<String>> = code
        .iter()
        .map(|w| (w, surfaces(bodies.get(w).map_or("", String::as_str))))
        .collect();
    let mut dsu = Dsu {
        parent: code.iter().map(|w| (w.clone(), w.clone())).collect(),
        rank: code.iter().map(|w| (w.clone(), 0)).collect(),
    };
    let mut merges = Vec::new();
    for (i, a) in code.iter().enumerate() {
        for b in &code[i + 1..] {
            let pairs: Vec<String> = manifests[a]
                .owned_files
                .iter()
                .flat_map(|ga| {
                    manifests[b]
                        .owned_files
                        .iter()
                        .filter(move |gb| overlaps(ga, gb))
                        .map(move |gb| format!("'{ga}' vs '{gb}'"))
                })
                .collect();
            if pairs.is_empty() {
                continue;
            }
            let mut evidence = format!("overlapping globs: {}", pairs.join(", "));
            if deps.get(b).is_some_and(|d| d.contains(a)) {
                evidence.push_str(&format!("; {b} depends on {a}"));
            } else if deps.get(a).is_some_and(|d| d.contains(b)) {
                evidence.push_str(&format!("; {a} depends on {b}"));
            }
            if dsu.find(a) != dsu.find(b) {
                merges.push(Merge {
                    wp_a: a.clone(),
                    wp_b: b.clone(),
                    rule: "write_scope_overlap".into(),
                    evidence,
                });
            }
            dsu.union(a, b);
        }
    }
    for (i, a) in code.iter().enumerate() {
        for b in &code[i + 1..] {
            let shared: Vec<&String> = surf[a].iter().filter(|s| surf[b].contains(s)).collect();
            if shared.is_empty() {
                continue;
            }
            let disjoint = !manifests[a]
                .owned_files
                .iter()
                .any(|ga| manifests[b].owned_files.iter().any(|gb| overlaps(ga, gb)));
            if disjoint {
                continue;
            }
            if dsu.find(a) != dsu.find(b) {
                let list: Vec<String> = shared.iter().map(|s| format!("'{s}'")).collect();
                merges.push(Merge {
                    wp_a: a.clone(),
                    wp_b: b.clone(),
                    rule: "surface_heuristic".into(),
                    evidence: format!(
                        "shared surfaces [{}] with non-disjoint ownership",
                        list.join(", ")
                    ),
                });
            }
            dsu.union(a, b);
        }
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in &code {
        let root = dsu.find(w);
        groups.entry(root).or_default().push(w.clone());
    }
    let mut groups: Vec<Vec<String>> = groups.into_values().collect();
    groups.sort_by(|a, b| a[0].cmp(&b[0]));
    let mut lane_of: BTreeMap<String, String> = BTreeMap::new();
    let mut lanes: Vec<Lane> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let id = lane_name(i);
        for w in g {
            lane_of.insert(w.clone(), id.clone());
        }
        lanes.push(Lane {
            lane_id: id,
            wp_ids: topo(g, deps),
            write_scope: sorted_union(g.iter().map(|w| &manifests[w].owned_files)),
            predicted_surfaces: sorted_union(g.iter().map(|w| &surf[w])),
            depends_on_lanes: Vec::new(),
            parallel_group: 0,
        });
    }
    if !planning.is_empty() {
        for w in &planning {
            lane_of.insert(w.clone(), "lane-planning".into());
        }
        lanes.push(Lane {
            lane_id: "lane-planning".into(),
            wp_ids: planning.clone(),
            write_scope: sorted_union(planning.iter().map(|w| &manifests[w].owned_files)),
            predicted_surfaces: vec!["planning".into()],
            depends_on_lanes: Vec::new(),
            parallel_group: 0,
        });
    }
    for lane in &mut lanes {
        let mut on: BTreeSet<String> = BTreeSet::new();
        for w in &lane.wp_ids {
            for d in deps.get(w).into_iter().flatten() {
                if let Some(l) = lane_of.get(d).filter(|l| **l != lane.lane_id) {
                    on.insert(l.clone());
                }
            }
        }
        lane.depends_on_lanes = on.into_iter().collect();
    }
    let graph: BTreeMap<String, Vec<String>> = lanes
        .iter()
        .map(|l| (l.lane_id.clone(), l.depends_on_lanes.clone()))
        .collect();
    let mut group: BTreeMap<String, usize> = BTreeMap::new();
    fn depth(
        id: &str,
        graph: &BTreeMap<String, Vec<String>>,
        memo: &mut BTreeMap<String, usize>,
        path: &mut Vec<String>,
    ) -> Result<usize, LaneError> {
        if let Some(d) = memo.get(id) {
            return Ok(*d);
        }
        if path.iter().any(|p| p == id) {
            let mut cycle = path.clone();
            cycle.push(id.to_string());
            return Err(LaneError::Cycle(cycle));
        }
        path.push(id.to_string());
        let mut d = 0;
        for dep in graph.get(id).into_iter().flatten() {
            d = d.max(1 + depth(dep, graph, memo, path)?);
        }
        path.pop();
        memo.insert(id.to_string(), d);
        Ok(d)
    }
    for id in graph.keys() {
        depth(id, &graph, &mut group, &mut Vec::new())?;
    }
    for lane in &mut lanes {
        lane.parallel_group = group[&lane.lane_id];
    }
    lanes.sort_by(|a, b| (a.parallel_group, &a.lane_id).cmp(&(b.parallel_group, &b.lane_id)));
    let independent_collapsed = merges
        .iter()
        .filter(|m| !related(deps, &m.wp_a, &m.wp_b))
        .count();
    Ok(Lanes {
        lanes,
        planning_artifact_wps: planning,
        merges,
        independent_collapsed,
    })
}

fn sorted_union<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let set: BTreeSet<String> = lists.flatten().cloned().collect();
    set.into_iter().collect()
}

/// Kahn's order of `group` by its internal dependencies (ready queue kept sorted).
fn topo(group: &[String], deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let inside: BTreeSet<&String> = group.iter().collect();
    let mut indeg: BTreeMap<&String, usize> = group
        .iter()
        .map(|w| {
            let n = deps
                .get(w)
                .into_iter()
                .flatten()
                .filter(|d| inside.contains(d))
                .count();
            (w, n)
        })
        .collect();
    let mut ready: BTreeSet<&String> = indeg
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(w, _)| *w)
        .collect();
    let mut out = Vec::new();
    while let Some(w) = ready.pop_first() {
        out.push(w.clone());
        for other in group {
            if deps.get(other).is_some_and(|d| d.contains(w))
                && let Some(n) = indeg.get_mut(other)
            {
                *n -= 1;
                if *n == 0 {
                    ready.insert(other);
                }
            }
        }
    }
    for w in group {
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

impl Lanes {
    /// The collapse report (`{events, total_merges, independent_wps_collapsed, by_rule}`).
    pub fn collapse_report(&self) -> Value {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for m in &self.merges {
            *by_rule.entry(m.rule.as_str()).or_default() += 1;
        }
        let by_rule: Map<String, Value> = by_rule
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        json!({
            "events": self.merges,
            "total_merges": self.merges.len(),
            "independent_wps_collapsed": self.independent_collapsed,
            "by_rule": by_rule,
        })
    }

    /// The preview a finalize document shows.
    pub fn preview(&self) -> Value {
        json!({
            "computed": true,
            "count": self.lanes.len(),
            "lane_ids": self.lanes.iter().map(|l| l.lane_id.clone()).collect::<Vec<_>>(),
            "planning_artifact_wps": self.planning_artifact_wps,
            "collapse_report": self.collapse_report(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(files: &[&str]) -> Manifest {
        Manifest {
            execution_mode: "code_change".into(),
            owned_files: files.iter().map(|s| s.to_string()).collect(),
            authoritative_surface: String::new(),
            scope: None,
        }
    }

    #[test]
    fn the_lifecycle_s_two_work_packages_make_two_lanes_one_after_the_other() {
        let deps = BTreeMap::from([
            ("WP01".to_string(), vec![]),
            ("WP02".into(), vec!["WP01".into()]),
        ]);
        let man = BTreeMap::from([
            ("WP01".to_string(), m(&["bin/greet"])),
            ("WP02".into(), m(&["tests/test_greet.sh"])),
        ]);
        let bodies = BTreeMap::from([
            ("WP01".to_string(), "Reviewer".to_string()),
            ("WP02".into(), "review".into()),
        ]);
        let l = compute(&deps, &man, &bodies).unwrap();
        assert_eq!(l.lanes.len(), 2);
        assert_eq!(l.lanes[1].depends_on_lanes, ["lane-a"]);
        assert_eq!(l.lanes[1].parallel_group, 1);
        assert_eq!(l.lanes[0].predicted_surfaces, ["api"]);
        assert!(l.merges.is_empty());
    }

    #[test]
    fn a_shared_file_collapses_two_work_packages_into_one_lane() {
        let deps = BTreeMap::from([
            ("WP01".to_string(), vec![]),
            ("WP02".into(), vec!["WP01".into()]),
        ]);
        let man = BTreeMap::from([
            ("WP01".to_string(), m(&["bin/greet"])),
            ("WP02".into(), m(&["bin/greet", "tests/t.sh"])),
        ]);
        let l = compute(&deps, &man, &BTreeMap::new()).unwrap();
        assert_eq!(l.lanes.len(), 1);
        assert_eq!(l.lanes[0].wp_ids, ["WP01", "WP02"]);
        assert_eq!(
            l.merges[0].evidence,
            "overlapping globs: 'bin/greet' vs 'bin/greet'; WP02 depends on WP01"
        );
        assert_eq!(l.independent_collapsed, 0);
        assert_eq!(lane_name(26), "lane-aa");
    }
}
