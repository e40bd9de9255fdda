//! The swimlane diagram as a self-contained SVG file: the same layout as the
//! page (`layout.rs`), its styles and colours inside, fonts named by family
//! with generic fallbacks (not embedded). The page's export buttons and
//! `whfb svg` both write it, so a slide or a wiki gets what the page shows.

use crate::catalog::Place;
use crate::layout::{layout, Shape, BAND_HEAD, HEADER, LANE_WIDTH, MARGIN, ROW};
use crate::script::Script;
use std::fmt::Write;

/// The page's two palettes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn slug(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The custom properties of `style/main.css` the diagram uses.
    fn palette(self) -> [(&'static str, &'static str); 10] {
        match self {
            Theme::Light => [
                ("bg", "#ffffff"),
                ("band", "#eef1f5"),
                ("text", "#17202b"),
                ("muted", "#55606e"),
                ("border", "#d5dbe3"),
                ("accent", "#0b5cad"),
                ("accent-soft", "#dcebfa"),
                ("onprem-soft", "#f0e8fa"),
                ("lane", "#c4ccd6"),
                ("fail", "#b3261e"),
            ],
            Theme::Dark => [
                ("bg", "#161d25"),
                ("band", "#1e2731"),
                ("text", "#e6ebf1"),
                ("muted", "#9aa6b4"),
                ("border", "#2c3744"),
                ("accent", "#6cb2f5"),
                ("accent-soft", "#15324f"),
                ("onprem-soft", "#2c1f40"),
                ("lane", "#3a4655"),
                ("fail", "#ff8a80"),
            ],
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An actor's name in lines that fit its lane head (about 17 characters
/// of 11 px type), at most three.
fn wrapped(name: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in name.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= 17 => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.len() > 3 {
        let rest = lines.split_off(2).join(" ");
        lines.push(rest);
    }
    lines
}

/// The diagram of `script`, with every step (`up_to` None) or the steps up
/// to and including `up_to`, that one marked as the current step.
pub fn diagram(script: &Script, up_to: Option<usize>, theme: Theme) -> String {
    let geometry = layout(script);
    let last = up_to.map_or(script.steps.len().saturating_sub(1), |n| {
        n.min(script.steps.len().saturating_sub(1))
    });
    // Up to a step, the diagram ends below it.
    let height = match up_to {
        Some(_) => geometry
            .rows
            .get(last)
            .map_or(geometry.height, |r| r.y + ROW / 2.0 + MARGIN),
        None => geometry.height,
    };
    let width = geometry.width;
    let info = script.flow.info();
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif\" font-size=\"12\">"
    );
    let _ = write!(
        s,
        "<title>{}</title><desc>{}</desc>",
        escape(info.title),
        escape(&match up_to {
            Some(_) => format!(
                "Windows Hello for Business flow explorer: steps 1 to {} of {}.",
                last + 1,
                script.steps.len()
            ),
            None => format!(
                "Windows Hello for Business flow explorer: all {} steps.",
                script.steps.len()
            ),
        })
    );
    let var = |name: &str| {
        theme
            .palette()
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("#000000", |(_, v)| v)
    };
    let _ = write!(
        s,
        "<style>\
         .bg{{fill:{bg}}}\
         .band-bg{{fill:{band}}}\
         .band-label{{fill:{muted};font-weight:600}}\
         .lane-line{{stroke:{lane};stroke-dasharray:3 4}}\
         .lane-head{{fill:{band};stroke:{border}}}\
         .lane-head.cloud{{fill:{accent_soft}}}\
         .lane-head.onprem{{fill:{onprem}}}\
         .lane-name{{fill:{text};font-size:11px}}\
         .arrow{{stroke:{accent};stroke-width:1.6}}\
         .arrowhead{{fill:{accent}}}\
         .mark{{fill:{bg};stroke:{accent};stroke-width:1.6}}\
         .current .arrow,.current .mark{{stroke-width:2.6}}\
         .current .mark{{fill:{accent_soft}}}\
         .current .step-label{{font-weight:700}}\
         .step-label{{fill:{text}}}\
         .clock-hand{{stroke:{accent};fill:none}}\
         </style>",
        bg = var("bg"),
        band = var("band"),
        muted = var("muted"),
        lane = var("lane"),
        border = var("border"),
        accent_soft = var("accent-soft"),
        onprem = var("onprem-soft"),
        text = var("text"),
        accent = var("accent"),
    );
    s.push_str("<defs><marker id=\"arrowhead\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" class=\"arrowhead\"/></marker></defs>");
    let _ = write!(
        s,
        "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\"/>"
    );
    // Phase bands, alternate ones shaded, cut where the diagram ends.
    for (i, band) in geometry.bands.iter().enumerate() {
        if band.first_step > last {
            break;
        }
        let bottom = (band.y + band.height).min(height - MARGIN);
        if i % 2 == 1 {
            let _ = write!(
                s,
                "<rect class=\"band-bg\" x=\"0\" y=\"{}\" width=\"{width}\" height=\"{}\"/>",
                band.y,
                bottom - band.y
            );
        }
        let _ = write!(
            s,
            "<text class=\"band-label\" x=\"{MARGIN}\" y=\"{}\">Phase {} · {}</text>",
            band.y + BAND_HEAD * 0.65,
            band.phase.letter(),
            escape(&band.name)
        );
    }
    // Lanes: a head with the actor's name, and the dashed line under it.
    for lane in &geometry.lanes {
        let place = match lane.actor.place() {
            Place::Cloud => " cloud",
            Place::OnPremises => " onprem",
            Place::Person | Place::Device => "",
        };
        let _ = write!(
            s,
            "<line class=\"lane-line\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/><rect class=\"lane-head{place}\" x=\"{}\" y=\"8\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
            HEADER - 6.0,
            height - MARGIN,
            lane.x - LANE_WIDTH / 2.0 + 6.0,
            LANE_WIDTH - 12.0,
            HEADER - 20.0,
            x = lane.x
        );
        let lines = wrapped(lane.actor.name());
        let top = 8.0 + (HEADER - 20.0) / 2.0 - (lines.len() as f64 - 1.0) * 6.5 + 4.0;
        let _ = write!(
            s,
            "<text class=\"lane-name\" x=\"{}\" y=\"{top}\" text-anchor=\"middle\">",
            lane.x
        );
        for (n, line) in lines.iter().enumerate() {
            let _ = write!(
                s,
                "<tspan x=\"{}\" dy=\"{}\">{}</tspan>",
                lane.x,
                if n == 0 { 0.0 } else { 13.0 },
                escape(line)
            );
        }
        s.push_str("</text>");
    }
    // The steps.
    for row in geometry.rows.iter().take(last + 1) {
        let current = up_to.is_some() && row.index == last;
        let _ = write!(
            s,
            "<g class=\"step{}\" data-step=\"{}\">",
            if current { " current" } else { "" },
            row.index + 1
        );
        let label_y = match row.shape {
            Shape::Arrow { x1, x2 } => {
                let dir = if x2 > x1 { 1.0 } else { -1.0 };
                let _ = write!(
                    s,
                    "<line class=\"arrow\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" marker-end=\"url(#arrowhead)\"/>",
                    x1 + dir * 4.0,
                    x2 - dir * 6.0,
                    y = row.y
                );
                row.y - 7.0
            }
            Shape::Mark { x } => {
                let _ = write!(
                    s,
                    "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" rx=\"3\"/>",
                    x - 7.0,
                    row.y - 7.0
                );
                row.y + 4.0
            }
            Shape::Wait { x } => {
                let _ = write!(
                    s,
                    "<circle class=\"mark\" cx=\"{x}\" cy=\"{y}\" r=\"8\"/><path class=\"clock-hand\" d=\"M {x} {} L {x} {y} L {} {}\"/>",
                    row.y - 5.0,
                    x + 4.0,
                    row.y + 3.0,
                    y = row.y
                );
                row.y + 4.0
            }
        };
        let _ = write!(
            s,
            "<text class=\"step-label\" x=\"{}\" y=\"{label_y}\" text-anchor=\"{}\">{}. {}</text></g>",
            row.label_x,
            row.anchor,
            row.index + 1,
            escape(&row.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::FlowId;
    use crate::script::script;

    #[test]
    fn the_whole_flow_or_up_to_a_step() {
        let s = script(FlowId::from_slug("hybrid-cert-sync").unwrap());
        let whole = diagram(&s, None, Theme::Light);
        assert!(whole.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for (i, step) in s.steps.iter().enumerate() {
            assert!(
                whole.contains(&format!("{}. {}", i + 1, escape(step.title))),
                "{}",
                step.title
            );
        }
        assert!(!whole.contains(" current"));
        let part = diagram(&s, Some(4), Theme::Dark);
        assert!(part.contains(&format!("5. {}", escape(s.steps[4].title))));
        assert!(!part.contains(&format!(">6. {}", escape(s.steps[5].title))));
        assert!(part.contains("class=\"step current\" data-step=\"5\""));
        assert!(part.contains("#161d25") && !part.contains("#ffffff"));
        assert!(part.len() < whole.len());
    }

    #[test]
    fn actor_names_wrap_to_the_lane() {
        assert_eq!(
            wrapped("Microsoft Entra Connect Sync"),
            ["Microsoft Entra", "Connect Sync"]
        );
        assert_eq!(wrapped("TPM"), ["TPM"]);
        assert!(
            wrapped("a b c d e f g h i j k l m n o p q r s t u v w x y z")
                .iter()
                .all(|l| l.len() <= 17 || l.contains(' '))
        );
    }
}
