//! The simulated clock on a timeline: the steps so far, now, when the last
//! MFA stops counting, and Microsoft Entra Connect's cycles; with a control that
//! moves the clock on between two steps, as if the user waited.

use crate::session::{EditAnswer, Session};
use leptos::prelude::*;
use whfb_model::catalog::Actor;
use whfb_model::clock::SimTime;
use whfb_model::event::{ClockMarks, StepStatus};
use whfb_model::flows::FlowId;

/// The waits offered, in minutes.
const WAITS: [u64; 7] = [1, 2, 5, 10, 15, 30, 60];

/// `09:01:49`
fn hms(t: SimTime) -> String {
    let (_, _, _, h, m, s) = t.civil();
    format!("{h:02}:{m:02}:{s:02}")
}

/// The span the timeline covers and where a time falls on it, in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale {
    from: u64,
    to: u64,
}

impl Scale {
    fn over(times: impl Iterator<Item = SimTime>) -> Scale {
        let (mut from, mut to) = (u64::MAX, 0u64);
        for t in times {
            from = from.min(t.0);
            to = to.max(t.0);
        }
        if from > to {
            return Scale { from: 0, to: 1 };
        }
        // A margin either side, so that marks at the ends stay visible.
        let pad = ((to - from) / 40).max(30_000);
        Scale {
            from: from.saturating_sub(pad),
            to: to.saturating_add(pad),
        }
    }

    fn pct(&self, t: SimTime) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        ((t.0.clamp(self.from, self.to) - self.from) as f64 / span * 100.0).clamp(0.0, 100.0)
    }
}

#[component]
pub fn ClockBar(session: Session, flow: FlowId) -> impl IntoView {
    let has_sync = flow.info().actors.contains(&Actor::AadConnect);
    let minutes = RwSignal::new(15u64);

    // The clock as of the step shown, or of the last step run so far.
    let shown = Memo::new(move |_| {
        let current = session.playback.with(|p| p.current);
        session.events.with(|events| {
            let at = events.get(current).or(events.last())?;
            let start = events
                .first()
                .map(|e| SimTime(e.time.0.saturating_sub(e.elapsed.0)))?;
            let times: Vec<(usize, SimTime)> = events.iter().map(|e| (e.index, e.time)).collect();
            Some((at.index, at.clock.clone(), start, times))
        })
    });
    // Why the clock cannot be moved after the step shown, if it cannot.
    let blocked = Memo::new(move |_| {
        let (current, total) = session.playback.with(|p| (p.current, p.total));
        let status = session
            .events
            .with(|e| e.get(current).map(|ev| ev.status.clone()));
        match status {
            None => Some("this step has not run yet".to_string()),
            Some(StepStatus::Failed { .. }) => Some("the run stopped at this step".to_string()),
            Some(_) if current + 1 >= total => Some("this is the last step".to_string()),
            Some(_) => None,
        }
    });

    view! {
        <section class="clock" data-testid="clock" aria-label="Simulated clock">
            {move || shown.get().map(|(at, marks, start, times)| {
                let ClockMarks { now, mfa_fresh_until, last_sync, next_sync } = marks;
                let mut span = vec![start, now];
                span.extend(times.iter().map(|(_, t)| *t));
                span.extend(mfa_fresh_until);
                if has_sync {
                    span.push(last_sync);
                    span.push(next_sync);
                }
                let scale = Scale::over(span.into_iter());
                let mfa = match mfa_fresh_until {
                    None => ("none", "No MFA on record yet".to_string()),
                    Some(t) if t > now => ("fresh", format!("MFA counts as fresh until {} (hatched: too old from then on)", hms(t))),
                    Some(t) => ("stale", format!("The last MFA stopped counting as fresh at {}", hms(t))),
                };
                let (mfa_state, mfa_text) = mfa;
                view! {
                    <div class="clock-legend">
                        <span class="clock-now" data-testid="clock-now" data-time=now.0>
                            <span class="swatch now" aria-hidden="true"></span>
                            {format!("Simulated time {} (after step {})", hms(now), at + 1)}
                        </span>
                        <span class=format!("clock-mfa {mfa_state}") data-testid="clock-mfa" data-state=mfa_state>
                            <span class="swatch mfa" aria-hidden="true"></span>
                            {mfa_text}
                        </span>
                        {has_sync.then(|| view! {
                            <span class="clock-sync" data-testid="clock-sync">
                                <span class="swatch sync" aria-hidden="true"></span>
                                {format!("Microsoft Entra Connect ran at {}; next cycle at {}", hms(last_sync), hms(next_sync))}
                            </span>
                        })}
                    </div>
                    <div class="clock-track" aria-hidden="true">
                        {mfa_fresh_until.map(|t| {
                            let left = scale.pct(t);
                            view! { <div class="stale-zone" style=format!("left:{left:.2}%;width:{:.2}%", 100.0 - left)></div> }
                        })}
                        {has_sync.then(|| view! {
                            <div class="sync-mark" style=format!("left:{:.2}%", scale.pct(last_sync))></div>
                            <div class="sync-mark" style=format!("left:{:.2}%", scale.pct(next_sync))></div>
                        })}
                        {times.into_iter().map(|(i, t)| view! {
                            <div class="step-mark" class:current=i == at style=format!("left:{:.2}%", scale.pct(t))></div>
                        }).collect_view()}
                        <div class="now-mark" style=format!("left:{:.2}%", scale.pct(now))></div>
                    </div>
                    <div class="clock-scale" aria-hidden="true">
                        <span>{hms(SimTime(scale.from))}</span>
                        <span>{hms(SimTime(scale.to))}</span>
                    </div>
                }
            })}
            <div class="advance" data-testid="advance">
                <label>
                    <span>"Wait before the next step"</span>
                    <select
                        data-testid="advance-minutes"
                        prop:value=move || minutes.get().to_string()
                        on:change=move |ev| {
                            if let Ok(m) = event_target_value(&ev).parse::<u64>() {
                                minutes.set(m);
                            }
                        }
                    >
                        {WAITS.iter().map(|m| view! { <option value=m.to_string()>{format!("{m} min")}</option> }).collect_view()}
                    </select>
                </label>
                <button
                    data-testid="advance-clock"
                    disabled=move || blocked.get().is_some()
                    on:click=move |_| {
                        let current = session.playback.with_untracked(|p| p.current);
                        session.advance(current, minutes.get_untracked());
                    }
                >
                    "Move the clock on"
                </button>
                {move || blocked.get().map(|why| view! { <small class="muted" data-testid="advance-why">{format!("Not now: {why}.")}</small> })}
                {move || {
                    let refused = match session.edit_result.get() {
                        Some(EditAnswer::Advance(Err(why))) => Some(why),
                        _ => None,
                    };
                    refused.map(|why| view! { <small class="advance-error" role="alert" data-testid="advance-refused">{format!("Refused: {why}.")}</small> })
                }}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_covers_every_mark_with_a_margin() {
        let s = Scale::over([SimTime(1_000_000), SimTime(4_600_000)].into_iter());
        assert!(s.from < 1_000_000 && s.to > 4_600_000);
        assert!(s.pct(SimTime(1_000_000)) > 0.0);
        assert!(s.pct(SimTime(4_600_000)) < 100.0);
        assert_eq!(s.pct(SimTime(0)), 0.0);
        assert_eq!(s.pct(SimTime(u64::MAX)), 100.0);
        assert_eq!(Scale::over(std::iter::empty()), Scale { from: 0, to: 1 });
    }

    #[test]
    fn times_read_as_a_clock() {
        assert_eq!(hms(SimTime::DEFAULT_START), "09:00:00");
    }
}
