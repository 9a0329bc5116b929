//! The dashboard's charts, drawn as SVG on the server by plotters (no script, no font files:
//! the SVG backend writes text as `<text>`). Each chart is a picture of a table the page shows
//! beside it, so the figures a screen reader needs are in the table; the SVG carries
//! `role="img"` and a label saying what it shows. Heights come from amounts in minor units as
//! floats only to place shapes; no figure is ever read back from a chart.

use plotters::prelude::*;

/// One bar (a stack of parts) of a chart.
pub struct Bar {
    /// The label under the bar.
    pub label: String,
    /// The parts, bottom to top, each with the index of its series.
    pub parts: Vec<f64>,
}

/// Colours of the series, dark enough to stand on white (contrast ≥ 3:1).
const PALETTE: [RGBColor; 8] = [
    RGBColor(11, 61, 92),
    RGBColor(178, 106, 0),
    RGBColor(30, 123, 52),
    RGBColor(176, 0, 32),
    RGBColor(94, 53, 177),
    RGBColor(0, 105, 120),
    RGBColor(120, 80, 40),
    RGBColor(80, 80, 80),
];

const WIDTH: u32 = 720;
const HEIGHT: u32 = 360;

/// Gives the SVG its role and label, and lets it shrink with the page.
fn accessible(svg: String, label: &str) -> String {
    let label = label.replace('&', "and").replace(['"', '<', '>'], "");
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMinYMin meet\" style=\"width:100%;height:auto\" "),
        1,
    )
}

/// A chart of stacked bars: `series` names the parts (legend), `bars` the stacks.
pub fn stacked_bars(label: &str, series: &[String], bars: &[Bar]) -> String {
    let mut svg = String::new();
    let top = bars
        .iter()
        .map(|b| b.parts.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;
    if draw(&mut svg, series, bars, top).is_err() {
        return String::new();
    }
    accessible(svg, label)
}

fn draw<'a>(
    svg: &'a mut String,
    series: &[String],
    bars: &[Bar],
    top: f64,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = bars.len().max(1) as i32;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..top)?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len().max(1))
        .x_label_style(("sans-serif", 16))
        .y_label_style(("sans-serif", 16))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (s, name) in series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        let rects = bars.iter().enumerate().filter_map(move |(i, b)| {
            let below: f64 = b.parts.iter().take(s).sum();
            let h = b.parts.get(s).copied().unwrap_or(0.0);
            (h > 0.0).then(|| {
                let i = i as i32;
                let right = if i + 1 == n {
                    SegmentValue::Last
                } else {
                    SegmentValue::Exact(i + 1)
                };
                Rectangle::new(
                    [(SegmentValue::Exact(i), below), (right, below + h)],
                    colour.filled(),
                )
            })
        });
        chart
            .draw_series(rects)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// A line chart of one or more series over labelled points (e.g. members active per year).
pub fn lines(label: &str, series: &[String], points: &[Bar]) -> String {
    let mut svg = String::new();
    let top = points
        .iter()
        .flat_map(|b| b.parts.iter().copied())
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;
    if draw_lines(&mut svg, series, points, top).is_err() {
        return String::new();
    }
    accessible(svg, label)
}

fn draw_lines<'a>(
    svg: &'a mut String,
    series: &[String],
    points: &[Bar],
    top: f64,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = points.len().max(2) as i32;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0..n - 1, 0.0..top)?;
    let labels: Vec<String> = points.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .x_labels(points.len().max(1))
        .x_label_style(("sans-serif", 16))
        .y_label_style(("sans-serif", 16))
        .x_label_formatter(&|i| labels.get(*i as usize).cloned().unwrap_or_default())
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (s, name) in series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        let line = points
            .iter()
            .enumerate()
            .map(move |(i, p)| (i as i32, p.parts.get(s).copied().unwrap_or(0.0)));
        chart
            .draw_series(LineSeries::new(line, colour.stroke_width(3)))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 15, y)], colour.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
