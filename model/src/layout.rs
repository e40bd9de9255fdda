//! Where everything goes on the swimlane diagram: pure geometry from a
//! flow's script, so it can be tested without a browser, and shared by the
//! page's diagram and the SVG export (`svg.rs`, `whfb svg`).

use crate::catalog::{Actor, Phase};
use crate::script::{Script, StepKind};

/// A lane's width where there is room (the SVG export's, and the page's
/// on a wide screen).
pub const LANE_WIDTH: f64 = 128.0;
/// The narrowest lane the page draws: its short name still fits.
pub const MIN_LANE_WIDTH: f64 = 48.0;
/// Below this width a lane head shows the actor's short name.
pub const SHORT_NAMES_BELOW: f64 = 100.0;
/// The average advance of the labels' 12 px sans-serif type, for keeping a
/// label inside the diagram (an estimate: the page does not measure text).
pub const CHAR_WIDTH: f64 = 6.4;
/// In compact mode, the width of a lane the current step does not use: a
/// strip its arrows still reach, with no name in its head.
pub const COLLAPSED_LANE: f64 = 10.0;
pub const HEADER: f64 = 64.0;
pub const ROW: f64 = 46.0;
pub const BAND_HEAD: f64 = 30.0;
pub const MARGIN: f64 = 12.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub actor: Actor,
    /// Centre line.
    pub x: f64,
    pub width: f64,
}

impl Lane {
    /// A strip of compact mode, too narrow for a name.
    pub fn collapsed(&self) -> bool {
        self.width < MIN_LANE_WIDTH
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub phase: Phase,
    pub name: String,
    pub y: f64,
    pub height: f64,
    /// Index of the band's first step.
    pub first_step: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// An arrow from `x1` to `x2`.
    Arrow { x1: f64, x2: f64 },
    /// A mark on one lane.
    Mark { x: f64 },
    /// Time passing on one lane.
    Wait { x: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub index: usize,
    pub y: f64,
    pub shape: Shape,
    pub label: String,
    /// Where the label is anchored, and how (`middle`, `start`, `end`).
    pub label_x: f64,
    pub anchor: &'static str,
}

impl Row {
    /// Where a mark or a wait is drawn, or an arrow starts.
    pub fn shape_x(&self) -> f64 {
        match self.shape {
            Shape::Arrow { x1, .. } => x1,
            Shape::Mark { x } | Shape::Wait { x } => x,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The width of every lane, or in compact mode of every lane shown.
    pub lane_width: f64,
    /// Compact mode: only the lanes around the current step have their
    /// width, the others are collapsed to strips (see [`fitted`]).
    pub compact: bool,
    pub width: f64,
    pub height: f64,
    pub lanes: Vec<Lane>,
    pub bands: Vec<Band>,
    pub rows: Vec<Row>,
}

impl Layout {
    pub fn lane_x(&self, actor: Actor) -> f64 {
        self.lanes
            .iter()
            .find(|l| l.actor == actor)
            .map_or(MARGIN, |l| l.x)
    }
}

/// The layout of a flow's diagram, every lane [`LANE_WIDTH`] wide.
pub fn layout(script: &Script) -> Layout {
    layout_sized(script, LANE_WIDTH)
}

/// The lane width that fits a flow's lanes in `available` pixels, between
/// [`MIN_LANE_WIDTH`] and [`LANE_WIDTH`].
pub fn lane_width_for(script: &Script, available: f64) -> f64 {
    let lanes = script.flow.info().actors.len().max(1) as f64;
    ((available - MARGIN * 2.0) / lanes)
        .floor()
        .clamp(MIN_LANE_WIDTH, LANE_WIDTH)
}

/// The actors of a step and of the steps either side of it: the lanes
/// compact mode shows.
pub fn neighbourhood(script: &Script, step: usize) -> Vec<Actor> {
    let from = step.saturating_sub(1);
    let mut actors: Vec<Actor> = Vec::new();
    for s in script.steps.iter().skip(from).take(step + 2 - from) {
        for actor in s.kind.actors() {
            if !actors.contains(&actor) {
                actors.push(actor);
            }
        }
    }
    actors
}

/// The page's layout in `available` pixels with `current` the step shown.
/// Every lane shares the width while they fit at [`MIN_LANE_WIDTH`]. On a
/// screen too narrow for that (a phone), compact mode: the lanes of the
/// current step and its neighbours share the width and the others collapse
/// to [`COLLAPSED_LANE`] strips; the neighbours are left out where they
/// would not fit, and where even the current step's lanes would not, every
/// lane takes the minimum and the diagram scrolls sideways. `current:
/// None` asks for every lane whatever the width.
pub fn fitted(script: &Script, available: f64, current: Option<usize>) -> Layout {
    let actors = script.flow.info().actors;
    let all = lane_width_for(script, available);
    let fits = MARGIN * 2.0 + MIN_LANE_WIDTH * actors.len() as f64 <= available;
    let Some(current) = current.filter(|_| !fits) else {
        return layout_sized(script, all);
    };
    let step_actors = script
        .steps
        .get(current)
        .map(|s| s.kind.actors())
        .unwrap_or_default();
    for focus in [neighbourhood(script, current), step_actors] {
        let shown = actors.iter().filter(|a| focus.contains(a)).count();
        if shown == 0 {
            continue;
        }
        let strips = COLLAPSED_LANE * (actors.len() - shown) as f64;
        let width = ((available - MARGIN * 2.0 - strips) / shown as f64)
            .floor()
            .min(LANE_WIDTH);
        if width >= MIN_LANE_WIDTH {
            let widths: Vec<f64> = actors
                .iter()
                .map(|a| {
                    if focus.contains(a) {
                        width
                    } else {
                        COLLAPSED_LANE
                    }
                })
                .collect();
            let mut compact = layout_lanes(script, &widths);
            compact.lane_width = width;
            compact.compact = true;
            return compact;
        }
    }
    layout_sized(script, all)
}

/// Where a label of `chars` characters goes so that it stays inside
/// `0..width`: `x` with `anchor`, moved or re-anchored when it would not.
fn inside(x: f64, anchor: &'static str, chars: usize, width: f64) -> (f64, &'static str) {
    let text = chars as f64 * CHAR_WIDTH;
    let (left, right) = (MARGIN / 2.0, width - MARGIN / 2.0);
    if text >= right - left {
        return (left, "start");
    }
    match anchor {
        "middle" => ((x).clamp(left + text / 2.0, right - text / 2.0), "middle"),
        "start" if x + text > right => (right, "end"),
        "end" if x - text < left => (left, "start"),
        other => (x, other),
    }
}

/// The layout of a flow's diagram with lanes `lane_width` wide.
pub fn layout_sized(script: &Script, lane_width: f64) -> Layout {
    let widths = vec![lane_width; script.flow.info().actors.len()];
    let mut layout = layout_lanes(script, &widths);
    layout.lane_width = lane_width;
    layout
}

/// The layout with each lane as wide as `widths` says, in the flow's order
/// of actors.
fn layout_lanes(script: &Script, widths: &[f64]) -> Layout {
    let actors = script.flow.info().actors;
    let mut left = MARGIN;
    let lanes: Vec<Lane> = actors
        .iter()
        .zip(widths)
        .map(|(actor, &width)| {
            let lane = Lane {
                actor: *actor,
                x: left + width / 2.0,
                width,
            };
            left += width;
            lane
        })
        .collect();
    let width = left + MARGIN;
    let x_of = |a: Actor| lanes.iter().find(|l| l.actor == a).map_or(MARGIN, |l| l.x);
    let mut rows = Vec::with_capacity(script.steps.len());
    let mut bands: Vec<Band> = Vec::new();
    let mut y = HEADER;
    for (index, step) in script.steps.iter().enumerate() {
        if bands.last().map(|b| b.phase) != Some(step.phase) {
            if let Some(last) = bands.last_mut() {
                last.height = y - last.y;
            }
            let name = script
                .phases
                .iter()
                .find(|p| p.phase == step.phase)
                .map_or("", |p| p.name);
            bands.push(Band {
                phase: step.phase,
                name: name.to_string(),
                y,
                height: 0.0,
                first_step: index,
            });
            y += BAND_HEAD;
        }
        let row_y = y + ROW / 2.0;
        // Labels of marks go to the side with more room.
        let beside = |x: f64| {
            if x < width / 2.0 {
                (x + 14.0, "start")
            } else {
                (x - 14.0, "end")
            }
        };
        let (shape, (label_x, anchor)) = match step.kind {
            StepKind::Message { from, to } => {
                let (x1, x2) = (x_of(from), x_of(to));
                (Shape::Arrow { x1, x2 }, ((x1 + x2) / 2.0, "middle"))
            }
            StepKind::Internal { actor } => (Shape::Mark { x: x_of(actor) }, beside(x_of(actor))),
            StepKind::Wait { actor } => (Shape::Wait { x: x_of(actor) }, beside(x_of(actor))),
        };
        // The label as drawn: "12. Title".
        let chars = format!("{}. {}", index + 1, step.title).chars().count();
        let (label_x, anchor) = inside(label_x, anchor, chars, width);
        rows.push(Row {
            index,
            y: row_y,
            shape,
            label: step.title.to_string(),
            label_x,
            anchor,
        });
        y += ROW;
    }
    if let Some(last) = bands.last_mut() {
        last.height = y - last.y;
    }
    Layout {
        lane_width: widths.iter().copied().fold(0.0, f64::max),
        compact: false,
        width,
        height: y + MARGIN,
        lanes,
        bands,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::FlowId;
    use crate::script::script;

    fn flow_id(slug: &str) -> FlowId {
        FlowId::from_slug(slug).unwrap()
    }

    #[test]
    fn every_step_has_a_row_below_the_previous_one() {
        for flow in FlowId::all() {
            let s = script(flow);
            let l = layout(&s);
            assert_eq!(l.rows.len(), s.steps.len());
            assert!(l.rows.windows(2).all(|w| w[1].y > w[0].y));
            assert!(l.rows.iter().all(|r| r.y < l.height));
        }
    }

    #[test]
    fn narrow_lanes_keep_every_label_inside_the_diagram() {
        for flow in FlowId::all() {
            let s = script(flow);
            // A 1280 px screen's diagram column.
            let lane = lane_width_for(&s, 800.0);
            let l = layout_sized(&s, lane);
            assert!(l.width <= 800.0, "{flow}: {}", l.width);
            for row in &l.rows {
                let text =
                    format!("{}. {}", row.index + 1, row.label).chars().count() as f64 * CHAR_WIDTH;
                let (from, to) = match row.anchor {
                    "start" => (row.label_x, row.label_x + text),
                    "end" => (row.label_x - text, row.label_x),
                    _ => (row.label_x - text / 2.0, row.label_x + text / 2.0),
                };
                assert!(
                    (from >= 0.0 && to <= l.width) || (row.anchor == "start" && text > l.width),
                    "{flow}: {} runs out ({from}..{to} of {})",
                    row.label,
                    l.width
                );
            }
        }
        // Where there is room, lanes keep their full width.
        let s = script(flow_id("aadj-managed"));
        assert_eq!(lane_width_for(&s, 4000.0), LANE_WIDTH);
        assert_eq!(lane_width_for(&s, 100.0), MIN_LANE_WIDTH);
    }

    #[test]
    fn arrows_join_the_lanes_of_their_actors() {
        let s = script(flow_id("aadj-managed"));
        let l = layout(&s);
        for (row, step) in l.rows.iter().zip(&s.steps) {
            if let (Shape::Arrow { x1, x2 }, StepKind::Message { from, to }) =
                (row.shape, step.kind)
            {
                assert_eq!(x1, l.lane_x(from));
                assert_eq!(x2, l.lane_x(to));
                assert_ne!(x1, x2);
            }
        }
    }

    #[test]
    fn bands_cover_their_phase_and_do_not_overlap() {
        let s = script(flow_id("onprem-cert"));
        let l = layout(&s);
        assert_eq!(l.bands.len(), s.phases.len());
        for pair in l.bands.windows(2) {
            assert!((pair[0].y + pair[0].height - pair[1].y).abs() < 1e-9);
        }
        for row in &l.rows {
            let band = l.bands.iter().find(|b| b.phase == s.steps[row.index].phase);
            assert!(band.is_some_and(|b| row.y > b.y && row.y < b.y + b.height));
        }
    }

    #[test]
    fn on_a_phone_compact_mode_gives_the_current_step_its_lanes_whole() {
        // A 390 px phone's diagram: the page's padding and a scrollbar off.
        let available = 390.0 - 34.0 - 18.0;
        for flow in FlowId::all() {
            let s = script(flow);
            for (i, step) in s.steps.iter().enumerate() {
                let l = fitted(&s, available, Some(i));
                assert!(l.compact, "{flow} step {}", i + 1);
                assert!(l.width <= available, "{flow} step {}: {}", i + 1, l.width);
                for actor in step.kind.actors() {
                    let lane = l.lanes.iter().find(|lane| lane.actor == actor).unwrap();
                    assert!(
                        lane.width >= MIN_LANE_WIDTH,
                        "{flow} step {}: {actor:?} is {} px",
                        i + 1,
                        lane.width
                    );
                }
                // The strips still sit in the flow's order, arrows reach them.
                assert!(l.lanes.windows(2).all(|w| w[1].x > w[0].x));
                if let (Shape::Arrow { x1, x2 }, StepKind::Message { from, to }) =
                    (l.rows[i].shape, step.kind)
                {
                    assert_eq!((x1, x2), (l.lane_x(from), l.lane_x(to)));
                }
            }
        }
        // Where every lane fits, there is no compact mode; nor when asked
        // for every lane.
        let s = script(flow_id("hybrid-cert-sync"));
        assert_eq!(
            fitted(&s, 1000.0, Some(3)),
            layout_sized(&s, lane_width_for(&s, 1000.0))
        );
        assert!(!fitted(&s, available, None).compact);
        // The neighbours' lanes are shown too where they fit.
        let l = fitted(&s, available, Some(5));
        for actor in neighbourhood(&s, 5) {
            assert!(!l
                .lanes
                .iter()
                .find(|lane| lane.actor == actor)
                .unwrap()
                .collapsed());
        }
    }
}
