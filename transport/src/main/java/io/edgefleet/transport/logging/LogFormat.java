package io.edgefleet.transport.logging;

import java.util.Locale;

/** How records are written: {@link #TEXT} one line each, {@link #JSON} one JSON object per line. */
public enum LogFormat {
    /** {@code 2026-11-30T06:26:33.123Z INFO  RolloutEngine: message} (see {@link LineFormatter}). */
    TEXT,
    /** JSON Lines (see {@link JsonLineFormatter}). */
    JSON;

    /**
     * {@code text} or {@code json}, any case.
     *
     * @throws IllegalArgumentException naming the value
     */
    public static LogFormat parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("log format '" + s + "' is neither text nor json");
        }
    }
}
