//! What the device would say about itself once the step has run, in
//! `dsregcmd /status`'s sections and names, as the core derives it from the
//! run's state. Values the step changed are marked.

use leptos::prelude::*;
use whfb_model::event::ReportSection;

/// The previous value of `name` in section `section`, if it was reported.
fn before<'a>(previous: &'a [ReportSection], section: &str, name: &str) -> Option<&'a str> {
    previous
        .iter()
        .find(|s| s.name == section)
        .and_then(|s| s.get(name))
}

#[component]
pub fn DeviceState(
    sections: Vec<ReportSection>,
    previous: Option<Vec<ReportSection>>,
) -> impl IntoView {
    let changed = |section: &str, name: &str, value: &str| {
        previous
            .as_deref()
            .is_some_and(|p| before(p, section, name) != Some(value))
    };
    let count = sections
        .iter()
        .flat_map(|s| s.entries.iter().map(move |(k, v)| (s.name.as_str(), k, v)))
        .filter(|(s, k, v)| changed(s, k, v))
        .count();
    let rows = sections
        .iter()
        .map(|s| {
            let entries = s
                .entries
                .iter()
                .map(|(k, v)| {
                    let new = changed(&s.name, k, v);
                    view! {
                        <div class="report-entry" class:new=new data-testid="report-entry" data-name=k.clone() data-new=new.to_string()>
                            <dt>{k.clone()}</dt>
                            <dd data-testid="report-value">{v.clone()}</dd>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section class="report-section" data-testid="report-section" data-section=s.name.clone()>
                    <h4>{s.name.clone()}</h4>
                    <dl>{entries}</dl>
                </section>
            }
        })
        .collect_view();
    view! {
        <details class="holder device-state" data-testid="device-state" open={count > 0}>
            <summary data-testid="device-state-summary">
                <span class="holder-name">"Device state (dsregcmd /status)"</span>
                <span class="holder-count">
                    {match count {
                        0 => "unchanged at this step".to_string(),
                        n => format!("{n} value(s) changed at this step"),
                    }}
                </span>
            </summary>
            {rows}
        </details>
    }
}
