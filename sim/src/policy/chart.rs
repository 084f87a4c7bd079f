//! The benchmark's chart, as a hand-written SVG: mean requests per job (log scale)
//! against p95 relative delay (log scale), one labelled point per policy.

use std::fmt::Write as _;

/// Which family a point belongs to (its colour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// A fixed, stepped, exponential or waiter schedule.
    Baseline,
    /// The core's `Schedule::Adaptive` with the naive parameters it had before
    /// tuning (a reference point).
    NaiveAdaptive,
    /// The core's `Schedule::Adaptive` with `Adaptive::standard()`.
    Standard,
}

impl Group {
    fn colour(self) -> &'static str {
        match self {
            Group::Baseline => "#4a6fa5",
            Group::NaiveAdaptive => "#d9822b",
            Group::Standard => "#2e8b57",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Group::Baseline => "baselines",
            Group::NaiveAdaptive => "adaptive (naive)",
            Group::Standard => "adaptive (standard)",
        }
    }
}

/// One policy on the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Label next to the point.
    pub label: String,
    /// Colour family.
    pub group: Group,
    /// Mean requests per job.
    pub requests: f64,
    /// p95 relative delay, as a fraction (0.12 = 12 %).
    pub p95_rel_delay: f64,
}

/// A target region: at most `requests` per job at a p95 of at most `p95_rel_delay`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What the target is for.
    pub label: String,
    /// Most requests per job allowed.
    pub requests: f64,
    /// Largest p95 relative delay allowed, as a fraction.
    pub p95_rel_delay: f64,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 620.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 70.0;
/// Smallest p95 shown, in percent (a log axis cannot show 0).
const Y_FLOOR_PERCENT: f64 = 0.1;
/// Rough width of one character of the 11 px labels, for placing them.
const CHAR_WIDTH: f64 = 6.4;
const LABEL_HEIGHT: f64 = 12.0;

/// A log-scale axis over whole decades.
struct LogAxis {
    low: f64,
    high: f64,
    from: f64,
    to: f64,
}

impl LogAxis {
    /// The decades around `values` (positive), mapped onto `from..to` pixels.
    fn around(values: impl Iterator<Item = f64>, from: f64, to: f64) -> LogAxis {
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            low = low.min(v);
            high = high.max(v);
        }
        if !low.is_finite() || !high.is_finite() {
            (low, high) = (1.0, 10.0);
        }
        let low = 10f64.powf(low.log10().floor());
        let mut high = 10f64.powf(high.log10().ceil());
        if high <= low {
            high = low * 10.0;
        }
        LogAxis {
            low,
            high,
            from,
            to,
        }
    }

    fn pixel(&self, value: f64) -> f64 {
        let t = (value.max(self.low).log10() - self.low.log10())
            / (self.high.log10() - self.low.log10());
        self.from + t * (self.to - self.from)
    }

    /// 1, 2 and 5 times each power of ten in range.
    fn ticks(&self) -> Vec<f64> {
        let mut ticks = Vec::new();
        let mut decade = self.low;
        while decade <= self.high * 1.000_001 {
            for m in [1.0, 2.0, 5.0] {
                let v = decade * m;
                if v <= self.high * 1.000_001 {
                    ticks.push(v);
                }
            }
            decade *= 10.0;
        }
        ticks
    }
}

fn number(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_owned()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Axis-aligned box, for label placement.
#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// The chart as an SVG document.
pub fn render(title: &str, subtitle: &str, points: &[Point], targets: &[Target]) -> String {
    let (x0, x1) = (LEFT, WIDTH - RIGHT);
    let (y0, y1) = (HEIGHT - BOTTOM, TOP);
    let x_values = points
        .iter()
        .map(|p| p.requests)
        .chain(targets.iter().map(|t| t.requests))
        .filter(|v| *v > 0.0);
    let x = LogAxis::around(x_values, x0, x1);
    let y_values = points
        .iter()
        .map(|p| p.p95_rel_delay)
        .chain(targets.iter().map(|t| t.p95_rel_delay))
        .map(|v| (v * 100.0).max(Y_FLOOR_PERCENT));
    let y = LogAxis::around(y_values, y0, y1);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Helvetica, Arial, sans-serif">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" font-size="16" font-weight="bold" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="42" font-size="11" fill="#555" text-anchor="middle">{}</text>"##,
        WIDTH / 2.0,
        escape(subtitle)
    );

    // Labels already on the chart, which later labels must not cover.
    let mut taken: Vec<Rect> = Vec::new();

    // Target regions first, under everything else; their labels inside, at the
    // bottom right, stacked so that nested regions do not overlap.
    for (i, target) in targets.iter().enumerate() {
        let right = x.pixel(target.requests);
        let top = y.pixel((target.p95_rel_delay * 100.0).max(Y_FLOOR_PERCENT));
        let _ = writeln!(
            svg,
            r##"<rect x="{x0:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="#2e8b57" fill-opacity="0.06" stroke="#2e8b57" stroke-opacity="0.5" stroke-dasharray="5,4"/>"##,
            right - x0,
            y0 - top
        );
        let baseline = y0 - 6.0 - 14.0 * i as f64;
        let w = target.label.chars().count() as f64 * CHAR_WIDTH * 10.0 / 11.0;
        taken.push(Rect {
            x: right - 4.0 - w,
            y: baseline - LABEL_HEIGHT + 2.5,
            w,
            h: LABEL_HEIGHT,
        });
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{baseline:.1}" font-size="10" fill="#2e8b57" text-anchor="end">{}</text>"##,
            right - 4.0,
            escape(&target.label)
        );
    }

    // Grid, ticks and tick labels.
    for v in x.ticks() {
        let px = x.pixel(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{y1}" stroke="#e4e4e4"/><line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{:.1}" stroke="#333"/><text x="{px:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            y0 + 5.0,
            y0 + 18.0,
            number(v)
        );
    }
    for v in y.ticks() {
        let py = y.pixel(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}" stroke="#e4e4e4"/><line x1="{:.1}" y1="{py:.1}" x2="{x0}" y2="{py:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{} %</text>"##,
            x0 - 5.0,
            x0 - 8.0,
            py + 4.0,
            number(v)
        );
    }
    // Axes and their titles.
    let _ = writeln!(
        svg,
        r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">mean requests per job (log scale)</text>"#,
        (x0 + x1) / 2.0,
        HEIGHT - 22.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="20" y="{:.1}" font-size="13" text-anchor="middle" transform="rotate(-90 20 {:.1})">p95 of detection delay / job duration (%, log scale)</text>"#,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0
    );

    // Points, then labels placed where they overlap neither another label nor a
    // point.
    let placed_points: Vec<(f64, f64)> = points
        .iter()
        .map(|p| {
            (
                x.pixel(p.requests),
                y.pixel((p.p95_rel_delay * 100.0).max(Y_FLOOR_PERCENT)),
            )
        })
        .collect();
    taken.extend(placed_points.iter().map(|&(px, py)| Rect {
        x: px - 5.0,
        y: py - 5.0,
        w: 10.0,
        h: 10.0,
    }));
    for (point, &(px, py)) in points.iter().zip(&placed_points) {
        let _ = writeln!(
            svg,
            r#"<circle cx="{px:.1}" cy="{py:.1}" r="5" fill="{}" stroke="white" stroke-width="1"/>"#,
            point.group.colour()
        );
    }
    for (point, &(px, py)) in points.iter().zip(&placed_points) {
        let w = point.label.chars().count() as f64 * CHAR_WIDTH;
        let candidates = [
            (8.0, -6.0),
            (8.0, 6.0),
            (-8.0 - w, -6.0),
            (-8.0 - w, 6.0),
            (-w / 2.0, -20.0),
            (-w / 2.0, 8.0),
            (8.0, -18.0),
            (8.0, 18.0),
            (-8.0 - w, -18.0),
            (-8.0 - w, 18.0),
            (8.0, -30.0),
            (8.0, 30.0),
            (-8.0 - w, -30.0),
            (-8.0 - w, 30.0),
        ];
        let fits = |r: &Rect| r.x >= x0 && r.x + r.w <= x1 && r.y >= y1 && r.y + r.h <= y0;
        let rect_at = |(dx, dy): (f64, f64)| Rect {
            x: px + dx,
            y: py + dy - LABEL_HEIGHT / 2.0,
            w,
            h: LABEL_HEIGHT,
        };
        let chosen = candidates
            .iter()
            .map(|&c| rect_at(c))
            .find(|r| fits(r) && !taken.iter().any(|t| t.overlaps(r)))
            .unwrap_or_else(|| rect_at(candidates[0]));
        taken.push(chosen);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#222">{}</text>"##,
            chosen.x,
            chosen.y + LABEL_HEIGHT - 2.5,
            escape(&point.label)
        );
    }

    // Legend, top right inside the plot.
    let groups = [Group::Baseline, Group::NaiveAdaptive, Group::Standard];
    for (i, group) in groups.iter().enumerate() {
        let ly = y1 + 14.0 + 16.0 * i as f64;
        let lx = x1 - 170.0;
        let _ = writeln!(
            svg,
            r##"<circle cx="{lx:.1}" cy="{ly:.1}" r="5" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#222">{}</text>"##,
            group.colour(),
            lx + 10.0,
            ly + 4.0,
            group.name()
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_covers_whole_decades_with_1_2_5_ticks() {
        let axis = LogAxis::around([3.0, 180.0].into_iter(), 0.0, 300.0);
        assert_eq!((axis.low, axis.high), (1.0, 1000.0));
        assert_eq!(
            axis.ticks(),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        assert!((axis.pixel(10.0) - 100.0).abs() < 1e-9);
        assert!((axis.pixel(1000.0) - 300.0).abs() < 1e-9);
    }

    #[test]
    fn render_draws_one_labelled_point_per_policy() {
        let points = vec![
            Point {
                label: "fixed <2 s>".to_owned(),
                group: Group::Baseline,
                requests: 185.0,
                p95_rel_delay: 0.3,
            },
            Point {
                label: "ours".to_owned(),
                group: Group::Standard,
                requests: 5.4,
                p95_rel_delay: 0.049,
            },
        ];
        let targets = vec![Target {
            label: "target".to_owned(),
            requests: 6.0,
            p95_rel_delay: 0.08,
        }];
        let svg = render("t", "s", &points, &targets);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // Two data points plus three legend markers.
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("fixed &lt;2 s&gt;"));
        assert!(svg.contains("mean requests per job (log scale)"));
        assert!(svg.contains(">50 %<"));
    }
}
