//! Deep links: the URL's query holds the flow, the step, the seed and the
//! run's conditions, so a link reproduces the exact run and lands on that step.
//!
//! `?flow=hybrid-cert-sync&step=registration.register-key&seed=demo&mfa=2`
//!
//! A step is named by its stable id (`segment.action`), so a link keeps
//! pointing at the same step when flows grow. A number, as links made
//! before steps had ids wrote it, still counts from the first step of
//! provisioning.
//!
//! A malformed link never leaves a blank page: whatever can be read is used,
//! and each problem becomes a notice the page shows.

use whfb_model::edits::{self, Edit};
use whfb_model::flows::FlowId;
use whfb_model::options::{Options, SeedText, OPTION_KEYS};
use whfb_model::script::script;

/// The seed a run uses when the link names none.
pub const DEFAULT_SEED: &str = "demo";

/// What a URL asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub flow: Option<FlowId>,
    /// The step to land on, counted from 1 as in the URL.
    pub step: Option<usize>,
    pub seed: String,
    pub options: Options,
    /// Tampering and moves of the clock, in the engine's text form
    /// (`edits=v1:…`), applied as their steps come.
    pub edits: Vec<Edit>,
    /// Swimlanes and controls only, for an iframe.
    pub embed: bool,
    /// Two runs to compare, each a flow with its conditions after a `?`
    /// (`compare=aadj-managed&with=aadj-federated`), as written: the
    /// comparison panel reads them and says what is wrong.
    pub compare: Option<(String, String)>,
    /// What could not be read, in words for a notice.
    pub notices: Vec<String>,
}

impl Default for Route {
    fn default() -> Self {
        Route {
            flow: None,
            step: None,
            seed: DEFAULT_SEED.into(),
            options: Options::default(),
            edits: Vec::new(),
            embed: false,
            compare: None,
            notices: Vec::new(),
        }
    }
}

impl Route {
    /// Reads a query string (with or without the leading `?`).
    pub fn parse(query: &str) -> Route {
        let mut route = Route::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut flow_asked = false;
        let mut step_asked: Option<String> = None;
        let mut edits_asked: Option<String> = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = match (decode(raw_key), decode(raw_value)) {
                (Some(k), Some(v)) => (k, v),
                _ => {
                    route.notices.push(format!(
                        "Part of the link is not valid URL encoding (\"{pair}\"); it was ignored."
                    ));
                    continue;
                }
            };
            let o = &mut route.options;
            match key.as_str() {
                "flow" => {
                    flow_asked = true;
                    match FlowId::from_slug(&value) {
                        Some(f) => route.flow = Some(f),
                        None => route.notices.push(format!(
                            "The link names a flow that does not exist (\"{value}\"), so the catalog is shown instead."
                        )),
                    }
                }
                "step" => step_asked = Some(value),
                "edits" => edits_asked = Some(value),
                "seed" => match SeedText::parse(&value) {
                    Ok(seed) => route.seed = seed.into(),
                    Err(why) => route.notices.push(format!(
                        "The link's seed is not used ({why}): the default seed is."
                    )),
                },
                "embed" => route.embed = value.is_empty() || value == "1" || value == "true",
                "compare" => {
                    let with = route.compare.take().map(|(_, b)| b).unwrap_or_default();
                    route.compare = Some((value, with));
                }
                "with" => {
                    let first = route.compare.take().map(|(a, _)| a).unwrap_or_default();
                    route.compare = Some((first, value));
                }
                // How many key-maker workers this page starts (read by
                // `worker_link` when the worker starts; not part of a run).
                "makers" => {
                    if !matches!(value.parse::<u8>(), Ok(0..=3)) {
                        route.notices.push(format!(
                            "The link asks for \"{value}\" key makers; from 0 to 3 can be asked for, so the number of cores decides."
                        ));
                    }
                }
                other if OPTION_KEYS.iter().any(|(k, _)| *k == other) => {
                    if let Err(why) = o.set(other, &value) {
                        route
                            .notices
                            .push(format!("In the link, {why}; the default is used."));
                    }
                }
                other => route.notices.push(format!(
                    "The link has an unknown setting \"{other}\"; it was ignored."
                )),
            }
        }
        if let (Some(text), Some(flow)) = (&step_asked, route.flow) {
            match text.parse::<usize>() {
                // An old numeric link, counted from provisioning's first
                // step; past the flow's end it opens the last step, and
                // the link is written back with that step's id.
                Ok(n) if n >= 1 => {
                    let script = script(flow);
                    let first = script.resolve("1").unwrap_or(0);
                    let last = script.steps.len();
                    let asked = n.saturating_add(first);
                    if asked > last {
                        route.notices.push(format!(
                            "The link asks for step {n}, past the end of this flow: its last step is shown."
                        ));
                    }
                    route.step = Some(asked.min(last));
                }
                _ => match script(flow).resolve(text) {
                    Ok(index) => route.step = Some(index + 1),
                    Err(why) => route.notices.push(format!(
                        "\"{text}\" is not a step number or a step of this flow ({why}); the flow starts at its first step."
                    )),
                },
            }
        }
        if let (Some(text), Some(flow)) = (&edits_asked, route.flow) {
            match edits::parse(text, &script(flow)) {
                Ok(list) => route.edits = list,
                Err(why) => route.notices.push(format!(
                    "The link's edits could not be read ({why}); the run is shown without them."
                )),
            }
        }
        if step_asked.is_some() && route.flow.is_none() && !flow_asked {
            route
                .notices
                .push("The link names a step but no flow, so the catalog is shown.".into());
            route.step = None;
        }
        if route.flow.is_none() {
            route.step = None;
        }
        // A flow's page has no comparison: the flow wins.
        if route.flow.is_some() {
            route.compare = None;
        }
        route
    }

    /// The query string for this route, with only what differs from the defaults.
    pub fn to_query(&self) -> String {
        let mut parts: Vec<(String, String)> = Vec::new();
        if let Some(flow) = self.flow {
            parts.push(("flow".into(), flow.slug().into()));
        }
        if let (Some(flow), Some(step)) = (self.flow, self.step) {
            // The step's stable id; a step past the end keeps its number.
            let id = script(flow)
                .steps
                .get(step.wrapping_sub(1))
                .map_or_else(|| step.to_string(), |s| s.id.to_string());
            parts.push(("step".into(), id));
        }
        if self.seed != DEFAULT_SEED {
            parts.push(("seed".into(), self.seed.clone()));
        }
        for (key, value) in self.options.to_pairs() {
            parts.push((key.into(), value));
        }
        if let (Some(flow), false) = (self.flow, self.edits.is_empty()) {
            parts.push(("edits".into(), edits::to_text(&self.edits, &script(flow))));
        }
        if self.embed {
            parts.push(("embed".into(), "1".into()));
        }
        if let (None, Some((a, b))) = (self.flow, &self.compare) {
            parts.push(("compare".into(), a.clone()));
            parts.push(("with".into(), b.clone()));
        }
        if parts.is_empty() {
            return String::new();
        }
        let joined: Vec<String> = parts
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("?{}", joined.join("&"))
    }
}

/// Percent-decoding (RFC 3986 §2.1), with `+` as a space as forms write it.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let s = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(s, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encoding of everything but the unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_id;
    use whfb_model::clock::SimDuration;
    use whfb_model::options::LastMfa;

    #[test]
    fn a_full_link_round_trips() {
        let mut route = Route::parse("?flow=hybrid-cert-sync&step=12&seed=my%20seed&mfa=2&sensor=0&pin=13579%2B&pin2=97531&wrongpin=3&adfs=down&sync=15&embed");
        assert!(route.notices.is_empty(), "{:?}", route.notices);
        assert_eq!(route.flow, Some(flow_id("hybrid-cert-sync")));
        // A number counts from provisioning's first step, after the
        // device's registration and Windows sign-in (20 steps).
        assert_eq!(route.step, Some(32));
        assert_eq!(route.seed, "my seed");
        assert_eq!(
            route.options.last_mfa,
            LastMfa::Ago(SimDuration::minutes(2))
        );
        assert!(!route.options.biometric_sensor);
        assert_eq!(route.options.pin, "13579+");
        assert_eq!(route.options.pin_confirmation, "97531");
        assert_eq!(route.options.wrong_pin_attempts, 3);
        assert!(!route.options.federation_available);
        assert!(route.embed);
        let again = Route::parse(&route.to_query());
        route.notices.clear();
        assert_eq!(again, route);
    }

    #[test]
    fn a_comparison_link_round_trips() {
        let route = Route::parse(
            "?compare=aadj-managed&with=hybrid-key-managed%3Fmfa%3Dnone%26sensor%3D0&seed=s1",
        );
        assert!(route.notices.is_empty(), "{:?}", route.notices);
        assert_eq!(
            route.compare,
            Some((
                "aadj-managed".into(),
                "hybrid-key-managed?mfa=none&sensor=0".into()
            ))
        );
        assert_eq!(Route::parse(&route.to_query()), route);
        // With a flow, the flow's page opens.
        assert_eq!(
            Route::parse("?flow=onprem-key&compare=aadj-managed").compare,
            None
        );
    }

    /// Hostile links: mutants of real ones never panic, and what a link
    /// opens, written back as a link, opens the same without a notice
    /// (parse ∘ write = id). `WHFB_FUZZ_INPUTS` inputs (10⁴ by default;
    /// `cargo xtask fuzz` runs 10⁶).
    #[test]
    fn fuzz_links_never_break_the_page() {
        use whfb_model::fuzz::{mutate, Rng};
        let inputs: usize = std::env::var("WHFB_FUZZ_INPUTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        let seeds: Vec<Vec<u8>> = [
            "?flow=hybrid-cert-sync&step=12&seed=my%20seed&mfa=2&sensor=0&pin=13579%2B&pin2=97531&wrongpin=3&adfs=down&sync=15&embed",
            "?flow=onprem-key&step=kerberos.check-as-req&edits=v1%3Akerberos.send-as-req%2Fadvance%2F6",
            "?flow=hybrid-cloud-kerberos&step=cloud-kerberos.check-tgs-req&kerberosserver=rotated&skew=30&privileged=1",
            "?flow=onprem-cert&step=40&usercert=revoked&dccert=missing&password=guess",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let mut rng = Rng::for_name("link");
        let started = std::time::Instant::now();
        let mut clean = 0;
        for i in 0..inputs {
            let input = match seeds.get(i) {
                Some(seed) => seed.clone(),
                None => {
                    let seed = &seeds[rng.below(seeds.len())];
                    mutate(&mut rng, seed, &seeds, true)
                }
            };
            let text = String::from_utf8_lossy(&input);
            let mut route = Route::parse(&text);
            clean += usize::from(route.notices.is_empty());
            route.notices.clear();
            let link = route.to_query();
            let again = Route::parse(&link);
            assert!(
                again.notices.is_empty(),
                "{text:?} → {link}: {:?}",
                again.notices
            );
            assert_eq!(again, route, "{text:?} → {link}");
        }
        println!(
            "fuzz link (Route::parse)           {inputs:>9} inputs  {clean:>8} without a notice  0 panics  {:>7.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    #[test]
    fn defaults_make_a_short_link() {
        let route = Route {
            flow: Some(flow_id("onprem-key")),
            step: Some(20),
            ..Route::default()
        };
        assert_eq!(
            route.to_query(),
            "?flow=onprem-key&step=tokens.sign-in-request"
        );
        assert_eq!(Route::default().to_query(), "");
    }

    #[test]
    fn broken_links_fall_back_with_a_notice() {
        let r = Route::parse("?flow=no-such-flow&step=4");
        assert_eq!(r.flow, None);
        assert_eq!(r.step, None);
        assert!(r.notices[0].contains("does not exist"));

        let r = Route::parse("?flow=aadj-managed&step=zero");
        assert_eq!(r.flow, Some(flow_id("aadj-managed")));
        assert_eq!(r.step, None);
        assert!(r.notices[0].contains("not a step number"));

        for bad in [
            "?flow=%ZZ",
            "?%",
            "?mfa=-3",
            "?wrongpin=99999999999",
            "?sensor=maybe",
            "?bogus=1",
            "?seed=",
        ] {
            assert!(!Route::parse(bad).notices.is_empty(), "{bad}");
        }
    }

    #[test]
    fn links_name_steps_by_id_and_old_numeric_links_still_land() {
        // Links written before steps had ids, and where they land.
        for (query, id) in [
            ("?flow=hybrid-cert-sync&step=24", "enrollment.sign-request"),
            ("?flow=aadj-managed&step=1", "tokens.start-provisioning"),
            (
                "?flow=hybrid-key-managed&step=26",
                "key-sync.sign-in-after-sync",
            ),
        ] {
            let r = Route::parse(query);
            assert!(r.notices.is_empty(), "{query}: {:?}", r.notices);
            let flow = r.flow.unwrap();
            let shown = &script(flow).steps[r.step.unwrap() - 1];
            assert_eq!(shown.id.to_string(), id, "{query}");
            let by_id = Route::parse(&format!("?flow={}&step={id}", flow.slug()));
            assert_eq!(by_id.step, r.step);
            assert!(r.to_query().contains(&format!("step={id}")));
        }
        let r = Route::parse("?step=registration.register-key&flow=onprem-key");
        assert_eq!(
            r.step.map(|s| s - 1),
            script(r.flow.unwrap())
                .resolve("registration.register-key")
                .ok()
        );
        let r = Route::parse("?flow=onprem-key&step=key-sync.sync-write");
        assert_eq!(r.step, None);
        assert!(r.notices[0].contains("no step"), "{:?}", r.notices);
    }

    #[test]
    fn links_carry_edits_in_the_engines_text_form() {
        let r = Route::parse(
            "?flow=aadj-managed&step=17&edits=v1:registration.register-key/advance/15",
        );
        assert!(r.notices.is_empty(), "{:?}", r.notices);
        assert_eq!(
            r.edits,
            vec![Edit::Advance {
                after_step: script(r.flow.unwrap())
                    .resolve("registration.register-key")
                    .unwrap(),
                minutes: 15
            }]
        );
        let again = Route::parse(&r.to_query());
        assert_eq!(again, r);
        assert!(
            r.to_query()
                .contains("edits=v1%3Aregistration.register-key%2Fadvance%2F15"),
            "{}",
            r.to_query()
        );
        let broken = Route::parse("?flow=aadj-managed&edits=v2:whatever");
        assert!(broken.edits.is_empty());
        assert!(
            broken.notices[0].contains("edits could not be read"),
            "{:?}",
            broken.notices
        );
    }

    #[test]
    fn a_key_makers_count_is_read_but_not_part_of_the_run() {
        let r = Route::parse("?flow=aadj-managed&makers=2");
        assert!(r.notices.is_empty(), "{:?}", r.notices);
        assert!(!r.to_query().contains("makers"), "{}", r.to_query());
        for bad in ["4", "-1", "two", ""] {
            let r = Route::parse(&format!("?flow=aadj-managed&makers={bad}"));
            assert!(
                r.notices.len() == 1 && r.notices[0].contains("from 0 to 3"),
                "{bad}: {:?}",
                r.notices
            );
        }
    }

    #[test]
    fn decoding_rejects_broken_escapes() {
        assert_eq!(decode("a%20b+c"), Some("a b c".into()));
        assert_eq!(decode("%"), None);
        assert_eq!(decode("%G1"), None);
        assert_eq!(decode("%FF"), None);
    }
}
