package io.edgefleet.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One line chart of the report as inline SVG: a time axis of its own ({@link Axis}), series,
 * shaded bands (faults) clipped to the plot area and named in the legend, dashed step lines, and
 * y ticks at whole numbers when the series count things (devices). Pure function of its inputs.
 */
final class ReportChart {
    static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    static final int W = 960;
    static final int H = 230;
    static final int PAD_L = 60;
    static final int PAD_R = 170;
    static final int PAD_T = 28;
    static final int PAD_B = 30;
    /** The plot area, in SVG user units: every series point, band and step line lies inside it. */
    static final int PLOT_X = PAD_L;
    static final int PLOT_Y = PAD_T;
    static final int PLOT_W = W - PAD_L - PAD_R;
    static final int PLOT_H = H - PAD_T - PAD_B;

    private ReportChart() {
    }

    record Series(String name, double[] x, double[] y) {
    }

    /** A shaded span (a fault) or, with {@code from == to}, a line (a step's start). */
    record Band(double from, double to, String label, String color) {
    }

    /**
     * The time axis: run seconds {@code from} to {@code to}; tick labels show {@code t - origin}
     * (0 for the run's own time, a rollout's start for time into the rollout).
     */
    record Axis(double from, double to, double origin, String unit) {
        Axis {
            if (!(to > from)) {
                to = from + 1;
            }
        }

        static Axis run(double seconds) {
            return new Axis(0, Math.max(1, seconds), 0, "s");
        }

        double x(double t) {
            return PLOT_X + (t - from) / (to - from) * PLOT_W;
        }
    }

    /** The y axis: 0 to a nice maximum above the data (or {@code fixedMax}); {@code counts}: ticks at whole numbers only. */
    record YAxis(double fixedMax, boolean counts) {
        static final YAxis COUNTS = new YAxis(Double.NaN, true);
        static final YAxis VALUES = new YAxis(Double.NaN, false);
        static final YAxis SHARES = new YAxis(1.0, false);
    }

    /** Tick step for a span of {@code v}: 1, 2, 2.5 or 5 times a power of ten ({@code counts}: 1, 2 or 5 times, at least 1). */
    static double niceStep(double v, boolean counts) {
        if (!(v > 0)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        if (counts && p < 1) {
            return 1;
        }
        for (double m : counts ? new double[] {1, 2, 5} : new double[] {1, 2, 2.5, 5}) {
            if (m * p >= v - 1e-12) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** The y ticks from 0 up to the first tick at or above {@code max}: four or so, whole numbers for counts. */
    static List<Double> yTicks(double max, boolean counts) {
        double step = niceStep(max / 4, counts);
        double top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
        List<Double> out = new ArrayList<>();
        for (int i = 0; i * step <= top + 1e-9; i++) {
            out.add(i * step);
        }
        return out;
    }

    static String render(String title, List<Series> series, List<Band> bands, List<Band> lines, Axis ax, YAxis ya) {
        double yMax = 0;
        for (Series s : series) {
            for (double y : s.y()) {
                if (Double.isFinite(y)) {
                    yMax = Math.max(yMax, y);
                }
            }
        }
        List<Double> ticks = Double.isNaN(ya.fixedMax()) ? yTicks(yMax, ya.counts()) : yTicks(ya.fixedMax(), ya.counts());
        double ym = ticks.get(ticks.size() - 1);
        java.util.function.DoubleUnaryOperator sy = y -> PLOT_Y + PLOT_H - Math.min(y, ym) / ym * PLOT_H;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">", W, H,
                ReportHtml.esc(title)));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"600\">%s</text>", PAD_L, ReportHtml.esc(title)));
        b.append(String.format(Locale.ROOT, "<g class=\"plot\" data-x=\"%d\" data-y=\"%d\" data-width=\"%d\" data-height=\"%d\">", PLOT_X, PLOT_Y,
                PLOT_W, PLOT_H));
        Map<String, String> shaded = new LinkedHashMap<>();
        for (Band band : bands) {
            double from = Math.max(band.from(), ax.from());
            double to = Math.min(band.to(), ax.to());
            if (to < from) {
                continue; // wholly outside this chart's time
            }
            double x0 = ax.x(from);
            double w = Math.max(1.5, ax.x(to) - x0);
            x0 = Math.min(x0, PLOT_X + PLOT_W - w);
            b.append(String.format(Locale.ROOT, "<rect class=\"fault\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
                    + "fill-opacity=\"0.15\"><title>%s</title></rect>", x0, PLOT_Y, w, PLOT_H, band.color(), ReportHtml.esc(band.label())));
            shaded.putIfAbsent(band.label(), band.color());
        }
        for (Band l : lines) {
            if (l.from() < ax.from() || l.from() > ax.to()) {
                continue;
            }
            double x = ax.x(l.from());
            b.append(String.format(Locale.ROOT, "<line class=\"step\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-dasharray=\"3,3\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#666\" transform=\"rotate(-90 %.1f %d)\" text-anchor=\"end\">%s</text>",
                    x, x, PLOT_Y, PLOT_Y + PLOT_H, l.color(), x + 9, PLOT_Y + 2, x + 9, PLOT_Y + 2, ReportHtml.esc(l.label())));
        }
        for (double y : ticks) {
            double py = sy.applyAsDouble(y);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text class=\"ytick\" x=\"%d\" "
                    + "y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>", PLOT_X, PLOT_X + PLOT_W, py, py, PLOT_X - 4, py + 3, fmt(y)));
        }
        double span = ax.to() - ax.from();
        double step = niceStep(span / 8, false);
        for (double k = Math.ceil((ax.from() - ax.origin()) / step - 1e-9) * step; k + ax.origin() <= ax.to() + 1e-9; k += step) {
            b.append(String.format(Locale.ROOT, "<text class=\"xtick\" x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s %s</text>",
                    ax.x(k + ax.origin()), H - 10, fmt(k), ax.unit()));
        }
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", PLOT_X, PLOT_Y, PLOT_W,
                PLOT_H));
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            StringBuilder pts = new StringBuilder();
            for (int k = 0; k < s.x().length; k++) {
                if (Double.isFinite(s.y()[k]) && s.x()[k] >= ax.from() && s.x()[k] <= ax.to()) {
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", ax.x(s.x()[k]), sy.applyAsDouble(s.y()[k])));
                }
            }
            b.append("<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(COLORS[i % COLORS.length]).append("\" points=\"").append(pts)
                    .append("\"/>");
        }
        b.append("</g>");
        int row = 0;
        for (int i = 0; i < series.size(); i++, row++) {
            legend(b, row, COLORS[i % COLORS.length], 1, "series", series.get(i).name());
        }
        for (Map.Entry<String, String> e : shaded.entrySet()) {
            legend(b, row++, e.getValue(), 0.3, "fault", "fault: " + e.getKey());
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static void legend(StringBuilder b, int row, String color, double opacity, String kind, String text) {
        b.append(String.format(Locale.ROOT, "<g class=\"legend %s\"><rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\" fill-opacity=\"%s\"/>"
                + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text></g>", kind, PLOT_X + PLOT_W + 10, PLOT_Y + 4 + row * 16, color, fmt(opacity),
                PLOT_X + PLOT_W + 24, PLOT_Y + 13 + row * 16, ReportHtml.esc(text)));
    }

    /** A tick label: whole numbers without decimals, others with at most two. */
    static String fmt(double v) {
        v += 0.0; // -0.0 (a tick computed as ceil(-tiny) * step) reads "0"
        return Math.abs(v - Math.rint(v)) < 1e-9 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v)
                .replaceAll("0+$", "");
    }
}
