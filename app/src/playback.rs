//! Playback of a flow: which step is shown, playing or paused, how fast.
//! A plain type with native tests; components only bind signals to it.

use whfb_model::catalog::Phase;

/// Playback speeds, as multiples of the base pace.
pub const SPEEDS: [f64; 4] = [0.5, 1.0, 2.0, 4.0];

/// How long one step stays on screen at speed 1.
const BASE_STEP_MS: f64 = 2200.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Playback {
    /// Steps in the flow.
    pub total: usize,
    /// The step shown, 0-based.
    pub current: usize,
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// The run stopped at this step (a check failed); nothing lies beyond.
    pub stop_at: Option<usize>,
}

impl Playback {
    pub fn new(total: usize) -> Self {
        Playback {
            total,
            current: 0,
            playing: false,
            speed: 1,
            stop_at: None,
        }
    }

    /// The last step that can be shown.
    pub fn last(&self) -> usize {
        let end = self.total.saturating_sub(1);
        self.stop_at.map_or(end, |s| s.min(end))
    }

    pub fn at_end(&self) -> bool {
        self.current >= self.last()
    }

    /// One step on; playing stops at the end.
    pub fn forward(&mut self) {
        if self.at_end() {
            self.playing = false;
        } else {
            self.current += 1;
        }
    }

    pub fn back(&mut self) {
        self.current = self.current.saturating_sub(1);
    }

    pub fn home(&mut self) {
        self.current = 0;
    }

    pub fn end(&mut self) {
        self.current = self.last();
    }

    pub fn jump(&mut self, step: usize) {
        self.current = step.min(self.last());
    }

    /// Play from the start again.
    pub fn restart(&mut self) {
        self.current = 0;
        self.playing = true;
    }

    pub fn toggle(&mut self) {
        if self.playing {
            self.playing = false;
        } else {
            if self.at_end() {
                self.current = 0;
            }
            self.playing = true;
        }
    }

    /// The run halted at `step`: playback cannot go further.
    pub fn halt_at(&mut self, step: usize) {
        self.stop_at = Some(step);
        if self.current > step {
            self.current = step;
        }
        if self.current == step {
            self.playing = false;
        }
    }

    /// The run was rebuilt after an edit: it no longer stops where it did.
    pub fn clear_halt(&mut self) {
        self.stop_at = None;
    }

    pub fn faster(&mut self) {
        self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
    }

    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    pub fn speed_factor(&self) -> f64 {
        SPEEDS.get(self.speed).copied().unwrap_or(1.0)
    }

    /// Milliseconds between steps while playing.
    pub fn interval_ms(&self) -> u32 {
        (BASE_STEP_MS / self.speed_factor()) as u32
    }

    /// Jump to the first step of `phase` in `phases` (one entry per step).
    pub fn jump_to_phase(&mut self, phases: &[Phase], phase: Phase) -> bool {
        match phases.iter().position(|p| *p == phase) {
            Some(i) if i <= self.last() => {
                self.current = i;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_stays_in_bounds() {
        let mut p = Playback::new(3);
        p.back();
        assert_eq!(p.current, 0);
        p.forward();
        p.forward();
        p.forward();
        assert_eq!(p.current, 2);
        p.home();
        assert_eq!(p.current, 0);
        p.end();
        assert_eq!(p.current, 2);
        p.jump(99);
        assert_eq!(p.current, 2);
    }

    #[test]
    fn playing_stops_at_the_end_and_restarts_from_the_top() {
        let mut p = Playback::new(2);
        p.toggle();
        assert!(p.playing);
        p.forward();
        p.forward();
        assert!(!p.playing);
        p.toggle();
        assert_eq!(p.current, 0);
        assert!(p.playing);
    }

    #[test]
    fn a_halted_run_cannot_be_stepped_past_its_failure() {
        let mut p = Playback::new(10);
        p.jump(5);
        p.playing = true;
        p.halt_at(3);
        assert_eq!(p.current, 3);
        assert!(!p.playing);
        p.end();
        assert_eq!(p.current, 3);
        p.forward();
        assert_eq!(p.current, 3);
        p.clear_halt();
        p.forward();
        assert_eq!(p.current, 4);
    }

    #[test]
    fn speed_changes_the_pace() {
        let mut p = Playback::new(5);
        let normal = p.interval_ms();
        p.faster();
        assert!(p.interval_ms() < normal);
        p.slower();
        p.slower();
        p.slower();
        assert_eq!(p.speed, 0);
        assert!(p.interval_ms() > normal);
    }

    #[test]
    fn phase_jumps_land_on_the_first_step_of_the_phase() {
        let phases = [Phase::A, Phase::A, Phase::B, Phase::C];
        let mut p = Playback::new(4);
        assert!(p.jump_to_phase(&phases, Phase::B));
        assert_eq!(p.current, 2);
        assert!(!p.jump_to_phase(&phases, Phase::G));
        assert_eq!(p.current, 2);
    }
}
