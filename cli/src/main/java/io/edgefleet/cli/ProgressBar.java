package io.edgefleet.cli;

import java.io.PrintWriter;

/** A one-line terminal progress bar ({@code \r}-redrawn at most every 100 ms); plain lines when not on a terminal. */
final class ProgressBar {
    private final PrintWriter out;
    private final String label;
    private final long total;
    private final boolean tty = System.console() != null;
    private long lastDraw;
    private long lastValue;

    ProgressBar(PrintWriter out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
    }

    synchronized void update(long value) {
        lastValue = value;
        long now = System.nanoTime();
        if (tty && now - lastDraw > 100_000_000L) {
            lastDraw = now;
            draw(value);
        }
    }

    private void draw(long value) {
        double f = Math.min(1.0, (double) value / total);
        int width = 30;
        int full = (int) Math.round(f * width);
        out.printf("\r%s [%s%s] %3.0f%% %s", label, "#".repeat(full), ".".repeat(width - full), f * 100, human(Math.min(value, total)));
        out.flush();
    }

    synchronized void done() {
        if (tty) {
            draw(lastValue);
            out.println();
        } else {
            out.printf("%s: %s sent%n", label, human(Math.min(lastValue, total)));
        }
        out.flush();
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format("%.1f KiB", bytes / 1024.0);
        }
        return String.format("%.1f MiB", bytes / (1024.0 * 1024));
    }
}
